"""Markdown -> HTML as Hexo renders it: GFM, hard breaks, heading ids, excerpts."""

from __future__ import annotations

import html
import re

import pytest
from blogpub.markup import MORE_ANCHOR, SUMMARY_CHARACTERS, render_body, to_html


def body_of(markdown: str) -> str:
    return render_body(markdown)[0]


def test_gfm_extensions() -> None:
    rendered = body_of(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ www.example.com\n\n- [ ] todo\n- [x] done\n"
    )

    assert "<table>" in rendered
    assert "<td>1</td>" in rendered
    assert "<del>gone</del>" in rendered
    assert '<a href="http://www.example.com"' in rendered
    assert rendered.count('<input type="checkbox" disabled="">') == 1
    assert rendered.count('<input type="checkbox" checked="" disabled="">') == 1


def test_a_single_newline_is_a_line_break_as_with_hexo_breaks_true() -> None:
    assert "one<br>\ntwo" in body_of("one\ntwo\n")


def test_fenced_code_keeps_its_language_class_and_escapes_markup() -> None:
    rendered = body_of('```html\n<div onclick="x()">{{ x }}</div>\n```\n')

    assert '<figure class="highlight html">' in rendered  # highlighted, as Hexo does
    text = re.sub(r"<[^>]*>", "", rendered.split('<td class="code">')[1])
    assert text == '&lt;div onclick="x()"&gt;{{ x }}&lt;/div&gt;\n'
    assert "onclick=" not in re.sub(r"&lt;.*?&gt;", "", rendered)


def test_template_syntax_stays_literal_text() -> None:
    rendered = body_of("Hello {{ site.title }} and {% raw %}x{% endraw %} {# c #}\n")

    assert "{{ site.title }}" in rendered
    # Hexo's Nunjucks: {% raw %} shows its body as written, a {# comment #} is dropped
    assert "and x" in rendered
    assert "{#" not in rendered


def test_brace_entities_become_braces_not_double_escaped() -> None:
    rendered = body_of("<p>fn &#123; x &#125;</p>\n\nmd &#123;y&#125;\n")

    assert "fn { x }" in rendered
    assert "md {y}" in rendered
    assert "&amp;#123;" not in rendered


# hexo-renderer-marked 7.0.1 (marked 15.0.12, hexo-util 3.3.0) rendering "## <text>" with its
# default options (smartypants on, as cmark's SMART option here: an id keeps the typographic
# quotes and dashes, "a -- b" -> "a-–-b", "a...c" -> "a…c"). Named entities differ
# as well: marked keeps "&copy;" as text ("x-copy-y"), cmark-gfm reads it as "©" ("x-©-y").
HEXO_RENDERER_MARKED_HEADING_IDS = [
    ("Hello, World!", "Hello-World"),
    ("一、负载均衡", "一、负载均衡"),
    ("前言", "前言"),
    ("Café déjà vu", "Cafe-deja-vu"),
    ("Straße Æon", "Strase-AEon"),
    ("Ørsted & Œuvre", "Orsted-OEuvre"),
    ("  a -- b  ", "a-–-b"),
    ("C++ & Rust", "C-Rust"),
    ("!!!", ""),
    ("Other *one*", "Other-one"),
    ("Use `code` here", "Use-code-here"),
    ("**Bold** and _em_", "Bold-and-em"),
    ("Vue 3 + Vite 🚀", "Vue-3-Vite-🚀"),
    ("🎉", "🎉"),
    ("MiXeD CaSe", "MiXeD-CaSe"),
    ("a___b...c", "a-b…c"),
    ("1. 模板里的 ref 会自动解包", "1-模板里的-ref-会自动解包"),
    ("線上範例", "線上範例"),
    ("한국어 제목", "한국어-제목"),
    ("がぎぐ", "がぎぐ"),
    ("Ｆｕｌｌ ｗｉｄｔｈ", "Full-width"),
    ("Tab\there", "Tabhere"),
    ("x &lt;div&gt; y", "x-y"),
    ("[link](http://a.example) text", "link-text"),
    ("Ærøskøbing Straße", "AEroskobing-Strase"),
    ("Łódź Đakovo", "Lodz-Dakovo"),
    ("ﬁ ligature", "ﬁ-ligature"),
    ("№ 5", "№-5"),
    ("100% sure?", "100-sure"),
    ("e.g. (example)", "e-g-example"),
    ("$PATH/bin", "PATH-bin"),
    ("a—b–c", "a—b–c"),
    ("«quoted»", "«quoted»"),
    ("Ⓐ circled", "A-circled"),
    ("Use `<div>` tag", "Use-tag"),
    ("a &amp; b", "a-b"),
    ("Fish &amp; Chips", "Fish-Chips"),
    ("<span>raw</span> html", "raw-html"),
    ("a<br>b", "ab"),
    ("Q&A", "Q-A"),
    ("`a_b` and `c-d`", "a-b-and-c-d"),
]


@pytest.mark.parametrize(("markdown", "anchor"), HEXO_RENDERER_MARKED_HEADING_IDS)
def test_heading_ids_are_the_ones_hexo_renderer_marked_gives(markdown: str, anchor: str) -> None:
    ids = re.findall(r'<h2 id="([^"]*)"', body_of(f"## {markdown}\n"))
    # Hexo writes id="" for a heading with no slug characters; an empty id is invalid HTML.
    assert [html.unescape(found) for found in ids] == ([anchor] if anchor else [])


def test_headings_get_ids_deduplicated_like_hexo() -> None:
    rendered = body_of("# Intro\n\n## Intro\n\n### Intro\n\n## Other *one*\n")

    ids = re.findall(r'<h\d id="([^"]*)"', rendered)
    assert ids == ["Intro", "Intro-1", "Intro-2", "Other-one"]


def test_ids_the_source_already_has_are_kept_and_not_reused() -> None:
    rendered = body_of('<h2 id="Setup">Setup</h2>\n\n## Setup\n')

    assert re.findall(r'<h2 id="([^"]*)"', rendered) == ["Setup", "Setup-1"]


def test_an_id_a_later_heading_has_is_not_given_to_an_earlier_one() -> None:
    rendered = body_of('## Setup\n\n<h2 id="Setup">Setup again</h2>\n\n## Done\n')

    assert re.findall(r'<h2 id="([^"]*)"', rendered) == ["Setup-1", "Setup", "Done"]
    assert rendered.count("<h2") == 3 and "Setup again</h2>" in rendered


def test_heading_ids_are_escaped() -> None:  # hexo-renderer-marked 7.0.1 gives the same id
    rendered = body_of('## Tom\'s "quote" & <b>co</b>\n')

    assert '<h2 id="Tom’s-“quote”-co">' in rendered
    assert "<b>co</b>" in rendered


def test_more_marker_splits_the_excerpt() -> None:
    body_html, excerpt_html = render_body("Intro **text**.\n\n<!-- more -->\n\nThe rest.\n")

    assert "Intro <strong>text</strong>." in excerpt_html
    assert "The rest" not in excerpt_html
    assert "Intro <strong>text</strong>." in body_html
    assert "The rest." in body_html
    assert body_html.index(MORE_ANCHOR) < body_html.index("The rest.")


def test_more_marker_is_case_and_space_insensitive_but_not_inside_code() -> None:
    _, excerpt_html = render_body("A\n\n<!--MORE-->\n\nB\n")
    assert "B" not in excerpt_html

    body_html, excerpt_html = render_body("```\n<!-- more -->\n```\n\nAfter\n")
    assert "&lt;!-- more --&gt;" in body_html
    assert MORE_ANCHOR not in body_html
    assert "After" in excerpt_html  # no marker: the summary covers the text


def test_front_matter_excerpt_wins_and_is_rendered() -> None:
    _, excerpt_html = render_body("Body\n\n<!-- more -->\n\nRest\n", excerpt="Short *one*")

    assert excerpt_html == "<p>Short <em>one</em></p>\n"


def test_without_marker_or_excerpt_the_summary_is_plain_text() -> None:
    long_text = "word " * 100
    body_html, excerpt_html = render_body(f"# Title\n\n<b>{long_text}</b> & <i>more</i>\n")

    assert excerpt_html.startswith("<p>Title word word")
    assert excerpt_html.endswith("…</p>")
    text = html.unescape(excerpt_html.removeprefix("<p>").removesuffix("</p>"))
    assert len(text) <= SUMMARY_CHARACTERS + 1
    assert "<b>" not in excerpt_html
    assert "Title" in body_html


def test_summary_escapes_text_that_looks_like_markup() -> None:
    _, excerpt_html = render_body("Use `<script>` & `<b>` tags\n")

    assert excerpt_html == "<p>Use &lt;script&gt; &amp; &lt;b&gt; tags</p>"


def test_summary_of_a_body_without_text_is_empty() -> None:
    assert render_body('<p><img src="https://x.example/a.png"></p>\n')[1] == ""


def test_a_feed_body_wrapped_in_a_div_is_html_not_markdown() -> None:
    feed_body = (
        '<div>\n<div class="content">\n    \n        <p>Indented *after* a blank line.</p>\n'
        "</div>\n</div>\n"
    )

    assert to_html(feed_body) == feed_body
    rendered = body_of(feed_body)
    assert "<p>Indented *after* a blank line.</p>" in rendered
    assert "<pre>" not in rendered


def test_markdown_with_some_raw_html_is_still_markdown() -> None:
    rendered = body_of('<div align="center">\n\n**bold**\n\n</div>\n\ntail *x*\n')

    assert "<strong>bold</strong>" in rendered
    assert "<em>x</em>" in rendered


def test_rendering_is_deterministic() -> None:
    source = "# A\n\n<!-- more -->\n\n## A\n\ntext https://example.com\n"

    assert render_body(source) == render_body(source)


def test_marked_strikes_single_tildes_and_strengthens_next_to_full_width_punctuation() -> None:
    # hexo-renderer-marked (marked 4): del has no flanking rule, emphasis counts only ASCII
    # punctuation; cmark-gfm leaves these as text
    assert render_body("我就不说了~（你也不回是不是~）")[0] == (
        "<p>我就不说了<del>（你也不回是不是</del>）</p>\n"
    )
    assert render_body("这是**（注意）**事项")[0] == "<p>这是<strong>（注意）</strong>事项</p>\n"
    assert render_body("a ~~b~~ and ~c~ d")[0] == "<p>a <del>b</del> and <del>c</del> d</p>\n"


def test_marked_strikes_and_strengthens_in_a_body_with_plain_code_too() -> None:
    # a fence without a language or indented code renders the body a second time (with
    # source positions): marked's del and strong must apply to that rendering as well
    for code in ("    x~y~z\n", "```\nx~y~z **a**\n```\n"):
        body_html = render_body("中~（笑~）和**（注）**中\n\n" + code)[0]
        assert body_html.startswith("<p>中<del>（笑</del>）和<strong>（注）</strong>中</p>\n")
        assert "x~y~z" in body_html  # code is left as it is
        assert body_html.count("<del>") == 1


def test_tildes_that_marked_leaves_alone_stay_text() -> None:
    assert render_body("好~ 真~ 的, ~~~ and a ~ b~")[0] == "<p>好~ 真~ 的, ~~~ and a ~ b~</p>\n"
    assert "<del>" not in render_body("`a~b~c` and http://a.org/~u/~v and\n\n    x~y~z\n")[0]
    assert "<strong>" not in render_body("`**a**` and 2 ** 3 ** 4")[0]
