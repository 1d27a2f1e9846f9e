"""Golden tag plugins: posts of our own using each Hexo 7 built-in tag and the common
NexT/Butterfly/Fluid theme tags, math and unknown tags, rendered body by body.

Each expected file is the sanitised body HTML, then the post's warnings, the post_link
targets it names and those not published yet. Regenerate after an intended change with
``BLOGPUB_UPDATE_GOLDEN=1 pytest tests/golden`` and read the diff.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import pytest
from blogpub.models import RenderedPost
from blogpub.reader import read_post
from blogpub.render import Renderer
from blogpub.tags import ResolvedPost

from tests.golden.test_golden import UPDATE, diff, golden_settings

HERE = Path(__file__).resolve().parent / "tags"
POSTS = sorted((HERE / "posts").glob("*.md"))
EXPECTED = HERE / "expected"
PUBLISHED = {"hello-world": ResolvedPost("Hello World", "/2021/12/31/hello-world/")}
# Item 1 of issue 14: every tag there has a golden post here.
HEXO_TAGS = {
    "blockquote", "codeblock", "code", "pullquote", "img", "link", "iframe", "youtube",
    "vimeo", "raw", "post_link", "post_path", "asset_img", "asset_image", "asset_link",
    "asset_path", "url_for", "full_url_for",
}  # fmt: skip
THEME_TAGS = {"note", "tabs", "label", "button", "spoiler", "sliding_spoiler"}
MATHML = "{http://www.w3.org/1998/Math/MathML}"


def render(path: Path, *, privacy_embeds: bool = False) -> RenderedPost:
    settings = replace(golden_settings(), privacy_embeds=privacy_embeds)
    post = read_post(path.read_bytes(), f"_posts/{path.name}", settings)
    return Renderer(settings).render_post(post, PUBLISHED.get)


def golden_text(rendered: RenderedPost) -> str:
    lines = [rendered.body_html.rstrip("\n"), "<!-- warnings -->"]
    lines += list(rendered.warnings)
    lines += ["<!-- linked posts -->", *rendered.linked_posts]
    lines += ["<!-- pending links -->", *rendered.pending_links]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("path", POSTS, ids=[path.stem for path in POSTS])
def test_tag_post_body(path: Path) -> None:
    actual = golden_text(render(path)).encode("utf-8")
    target = EXPECTED / f"{path.stem}.html"
    if UPDATE:
        EXPECTED.mkdir(exist_ok=True)
        target.write_bytes(actual)
    expected = target.read_bytes() if target.exists() else b""
    if actual != expected:
        pytest.fail(diff(target.name, expected, actual))


def test_every_tag_of_the_issue_has_a_golden_post() -> None:
    used = set()
    for path in POSTS:
        used.update(re.findall(r"\{%-?\s*(\w+)", path.read_text(encoding="utf-8")))
    assert (HEXO_TAGS | THEME_TAGS) - used == set()


def test_privacy_embeds_are_the_no_cookie_players_and_nothing_else() -> None:
    body = render(HERE / "posts" / "embeds.md", privacy_embeds=True).body_html
    frames = re.findall(r"<iframe[^>]*>", body)

    assert frames == [
        '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" loading="lazy" '
        'allowfullscreen="">',
        '<iframe src="https://www.youtube-nocookie.com/embed/videoseries?list=PL1234" '
        'loading="lazy" allowfullscreen="">',
        '<iframe src="https://player.vimeo.com/video/76979871?dnt=1" loading="lazy" '
        'allowfullscreen="">',
    ]
    # {% iframe %} stays a link: only the two players' own origins may be framed
    assert '<a class="iframe-link" href="https://example.org/widget"' in body


def test_unknown_tags_publish_with_their_warnings() -> None:
    rendered = render(HERE / "posts" / "unknown.md")

    assert "<p>Before.</p>" in rendered.body_html and "<p>After.</p>" in rendered.body_html
    assert rendered.warnings == (
        "line 8: unknown tag 'bilibili': shown as text",
        "line 10: no {% endnote %} closes it",
        "line 13: {% endtabs %} closes no {% tabs %}",
    )
    assert "<code>{% bilibili 12345 %}</code>" in rendered.body_html


def test_math_is_mathml_that_parses_as_xml_with_braces_backslashes_and_subscripts() -> None:
    rendered = render(HERE / "posts" / "math.md")
    formulas = re.findall(r"<math\b.*?</math>", rendered.body_html, re.DOTALL)
    namespaced = [f.replace("<math", f'<math xmlns="{MATHML[1:-1]}"', 1) for f in formulas]
    trees = [ElementTree.fromstring(formula.replace("&nbsp;", "\u00a0")) for formula in namespaced]

    assert len(trees) == 6  # three formulas, three hostile ones made harmless
    inline, aligned, summed = trees[:3]
    operators = [node.text for node in inline.iter(f"{MATHML}mo")]
    assert "{" in operators and "}" in operators  # \{ survived Markdown
    assert inline.find(f".//{MATHML}msub") is not None  # a_1: "_" stayed a subscript
    assert len(aligned.findall(f".//{MATHML}mtr")) == 2  # "\\" stayed a row break
    assert summed.find(f".//{MATHML}munderover") is not None
    assert "a price of $5 and $HOME/$USER stay text" in rendered.body_html
    assert 'href="https://maps.example/?q=$$a$$"' in rendered.body_html


def test_a_hostile_or_broken_formula_is_harmless_text_or_code_with_a_warning() -> None:
    rendered = render(HERE / "posts" / "math.md")
    tags = re.findall(r"<[a-z][^>]*>", rendered.body_html)

    assert not [tag for tag in tags if re.search(r"\son\w+=|javascript:|\shref=\"[^h]", tag)]
    assert "<script" not in rendered.body_html and "<img" not in rendered.body_html
    assert '<mtext>x"&nbsp;onerror="alert(1)</mtext>' in rendered.body_html  # only text
    assert "<code>$$\n\\text{&lt;script&gt;" in rendered.body_html
    assert [warning.split(":")[0] for warning in rendered.warnings] == ["line 19", "line 21"]


def test_a_body_that_writes_the_placeholder_itself_gets_it_back_as_text() -> None:
    from blogpub.markup import BodyOptions, render_post_body
    from blogpub.mathml import PLACEHOLDER_STEM

    forged = f"{PLACEHOLDER_STEM}0x and <b>{PLACEHOLDER_STEM}1x</b> then $y$"
    html = render_post_body(forged, None, BodyOptions()).html

    assert f"{PLACEHOLDER_STEM}0x and <b>{PLACEHOLDER_STEM}1x</b> then <math" in html
    assert html.count("<math") == 1
