"""Highlighted lines held out of nh3 and spliced into its output: the same page as when
nh3 sanitises them, and no way for a post to get markup past nh3 through the splice."""

from __future__ import annotations

import html
import re

import pytest
from blogpub.highlight import HeldOut, HighlightSettings, highlight_code_blocks
from blogpub.markup import (
    THEME_CLASSES,
    BodyOptions,
    _add_heading_ids,
    _filter_attribute,
    _finish,
    _heading_ids,
    _markdown,
    _splice,
    render_body,
    render_post_body,
    sanitize,
    to_html,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.token import STANDARD_TYPES

from tests.conftest import REPO

CORPUS = REPO.parent / "shared" / "corpus"
LAYOUTS = {
    "table": HighlightSettings(),
    "hljs": HighlightSettings(hljs=True),
    "no gutter": HighlightSettings(line_number=False),
    "plain pre": HighlightSettings(wrap=False, line_number=False, tab_replace="  "),
}


def _both_ways(body: str, options: BodyOptions) -> tuple[str, str, HeldOut]:
    """(spliced page body, the same body with every line through nh3, the held lines)."""
    held = HeldOut()
    rendered = _markdown(body, options, held)[0]
    return _finish(rendered, options, held), _finish(held.released(rendered), options), held


def test_every_token_class_and_the_line_class_pass_the_filter_unchanged() -> None:
    # The spliced spans are written with these classes as they are: nh3 must keep them so.
    for css in {*STANDARD_TYPES.values(), "line"} - {"", "w"}:
        assert css not in THEME_CLASSES
        assert _filter_attribute("span", "class", css) == css


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_held_lines_are_written_as_nh3_writes_them(layout: str) -> None:
    code = 'if (a < b && c > d) { s = "it\'s"; t = \'x\u00a0y\'; }\n\tindent & <tag attr="v">\n'
    held = HeldOut()
    skeleton = highlight_code_blocks(to_html(f"```js\n{code}```\n"), LAYOUTS[layout], held)
    inline = highlight_code_blocks(to_html(f"```js\n{code}```\n"), LAYOUTS[layout])
    assert held.pieces and held.token in skeleton and held.token not in inline
    assert _splice(sanitize(skeleton), held, skeleton.count(held.token)) == sanitize(inline)


@pytest.mark.corpus
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_corpus_post_is_the_same_spliced_as_through_nh3(layout: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    options = BodyOptions(highlight=LAYOUTS[layout])
    spliced_blocks = 0
    for path in sorted(CORPUS.rglob("*.md")):
        try:
            spliced, through_nh3, held = _both_ways(path.read_text(encoding="utf-8-sig"), options)
        except ValueError:
            continue
        assert spliced == through_nh3, path
        assert held.token not in spliced, path
        spliced_blocks += len(held.pieces)
    assert spliced_blocks > 1000


@pytest.mark.parametrize(
    "body",
    [
        # a fence after an unclosed attribute quote: the placeholder lands in a value
        '<div title="\n\n```js\nvar a = "<b>";\n```\n\n">x</div>\n',
        "<div title='\n\n```js\nvar a = 1;\n```\n\n'>x</div>\n",
        # raw-text and plain-text contexts, comments, foreign content, tables
        "<plaintext>\n\n```js\nvar a = 1;\n```\n",
        "<!--\n\n```js\nvar a = 1;\n```\n\n-->\n",
        "<svg>\n\n```js\nvar a = 1;\n```\n\n</svg>\n",
        "<math>\n\n```js\nvar a = 1;\n```\n\n</math>\n",
        "<table>\n\n```js\nvar a = 1;\n```\n\n</table>\n",
        # a pre left open: the sanitiser's escape of markup in code would end it at the
        # table's first </pre>, which a table held out whole would hide from it
        '"><pre>```js\nvar a = 1;\n```\n',
        "<pre>\n\n```js\nvar a = 1;\n```\n\n```js\nvar b;\n```\n",
        # an upper-case PRE after a table held out whole: no lower-case "<pre" is left
        "```js\nvar a = 1;\n```\n<PRE class=x><a href='https://x.example/'></pre>\n",
        "<select>\n\n```js\nvar a = 1;\n```\n\n</select>\n",
        "<textarea>\n\n```js\nvar a = 1;\n```\n\n</textarea>\n",
        "<a href='/x'><b>\n\n```js\nvar a = 1;\n```\n\n</a></b>\n",
        "<p>\n\n```js\nvar a = 1;\n```\n\n</p>\n",
        "<iframe src='https://www.youtube-nocookie.com/embed/x'>\n\n```js\nvar a;\n```\n",
    ],
)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_code_in_any_html_context_comes_out_as_through_nh3(body: str, layout: str) -> None:
    for privacy_embeds in (False, True):
        options = BodyOptions(highlight=LAYOUTS[layout], privacy_embeds=privacy_embeds)
        spliced, through_nh3, held = _both_ways(body, options)
        assert spliced == through_nh3
        assert held.token not in spliced


_FRAGMENTS = st.sampled_from(
    [
        "```js\nvar a = '<i>' + \"x\";\n```\n",
        "```py\ndef f():\n    return 1  # c\n```\n",
        "```\nplain <b>\n```\n",
        "    indented code\n",
        '<div title="',
        "<div title='",
        '">',
        "'>",
        "<!--",
        "-->",
        "<pre>",
        "</pre>",
        "<code>",
        "<table>",
        "<td>",
        "<svg>",
        "<math><mi>",
        "<b>",
        "</b>",
        "<a href='https://x.example/'>",
        "</a>",
        "<plaintext>",
        "<script>",
        "&lt;",
        "\n\n",
        "text ",
        "## heading\n",
        "<!-- more -->\n",
        "{% codeblock lang:js %}\nvar a = '<i>';\n{% endcodeblock %}\n",
        "{% code a.js http://x.example/ link %}\nx\n{% endcode %}\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=14))
def test_any_mix_of_html_and_code_comes_out_as_through_nh3(fragments: list[str]) -> None:
    body = "".join(fragments)
    spliced, through_nh3, held = _both_ways(body, BodyOptions())
    assert spliced == through_nh3
    assert held.token not in spliced


def test_a_tag_left_open_before_code_comes_out_as_through_nh3() -> None:
    # Found by the property test above: an attribute left open before a code block. With
    # the code in place its quotes close the attribute; the placeholder has none, so nh3
    # dropped the unclosed tag with the placeholder in it and the post's body came out empty.
    body = "<div title='\n\n```js\nvar a = '<i>' + \"x\";\n```\n"
    spliced, through_nh3, held = _both_ways(body, BodyOptions())
    assert spliced == through_nh3 and spliced.startswith("<div title=")
    # And a placeholder gone from the sanitiser's output makes the lines go through it
    assert _splice(sanitize(f"<div title='{held.token}-0-"), held, 1) is None


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_heading_ids_are_given_before_the_splice_unless_a_heading_holds_code(layout: str) -> None:
    # The ids go in before the held lines, which hold no heading. A code block the parser
    # left inside an <h2> is part of that heading's text, and so of its id: those ids are
    # given after the lines are back, as when nh3 sees them.
    options = BodyOptions(highlight=LAYOUTS[layout])
    body = "## var a\n\n```js\nvar a = 1;\n```\n\n<h2>\n\n```js\nvar b = 2;\n```\n\n## var a\n"
    spliced, through_nh3, held = _both_ways(body, options)
    assert spliced == through_nh3
    ids = re.findall(r'<h2 id="([^"]*)"', spliced)
    assert ids[0] == "var-a" and "var-b-2" in ids[1] and ids[2] == "var-a-1"
    assert held.token not in spliced
    in_heading = f"<h2>a</h2><h2><figure>{held.token}-1-</figure></h2>"
    assert _heading_ids(in_heading, held.token) is None
    assert _heading_ids(in_heading, "another") == _add_heading_ids(in_heading)


def test_the_table_layout_is_held_out_whole_and_nh3_sees_the_figure_and_its_caption() -> None:
    markdown = "```js a caption\nvar a = 1;\n```\n"
    held = HeldOut()
    skeleton = highlight_code_blocks(to_html(markdown), HighlightSettings(), held)
    caption = "<figcaption><span>a caption</span></figcaption>"
    assert skeleton == f'<figure class="highlight js">{caption}{held.token}-0-</figure>\n'
    assert held.pieces[0].startswith('<table><tbody><tr><td class="gutter"><pre>')
    inline = highlight_code_blocks(to_html(markdown), HighlightSettings())
    assert _splice(sanitize(skeleton), held, 1) == sanitize(inline)
    # elsewhere than as the figure's content after its caption, the table is not put back
    for misplaced in (
        f'<figure class="highlight js"><b>{held.token}-0-</b></figure>',
        f"<p>{held.token}-0-</p>",
        f'<figure class="highlight js">{caption}{held.token}-0-<br></figure>',
    ):
        assert _splice(misplaced, held, 1) is None


def test_a_table_is_held_out_only_before_html_that_changes_how_a_table_is_read() -> None:
    fence = "```js\nvar a = 1;\n```\n\n"
    # (the first of these, closed or not, and no table is held out after it)
    for between, tables_held in (("", 2), ("<table>\n\n", 1), ("<svg></svg>\n\n", 1)):
        held = HeldOut()
        highlight_code_blocks(to_html(fence + between + fence), HighlightSettings(), held)
        assert len(held.in_figure) == tables_held, between
    held = HeldOut()
    markdown = f"text <pre>\n\n{fence}text </pre>\n\n{fence}"  # a pre open over the first
    highlight_code_blocks(to_html(markdown), HighlightSettings(), held)
    assert len(held.pieces) == 3 and held.in_figure == {2}  # lines, line numbers; a table


def test_a_codeblock_tags_table_is_held_out_where_a_fences_would_be() -> None:
    tag = "{% codeblock a.js lang:js %}\nvar a = '<i>';\n{% endcodeblock %}\n\n"
    for before, held_tables in (("", 1), ("<table>\n\n", 0), ("text <pre>\n\n", 0)):
        held = HeldOut()
        rendered = _markdown(before + tag, BodyOptions(), held)[0]
        assert len(held.in_figure) == 1  # held by the tag, before Markdown runs
        assert rendered.count(f"{held.token}-0-") == held_tables  # or put back there
        spliced, through_nh3, _ = _both_ways(before + tag, BodyOptions())
        assert spliced == through_nh3
    assert render_body(tag)[0].startswith(
        '<figure class="highlight js"><figcaption><span>a.js</span></figcaption><table><tbody>'
    )


def test_a_post_cannot_write_a_placeholder() -> None:
    # Each render draws its own token, so a post cannot know the one in use.
    tokens = {HeldOut().token for _ in range(100)}
    assert len(tokens) == 100
    assert all(re.fullmatch(r"[0-9a-f]{16}", token) for token in tokens)


def test_markup_of_a_post_never_reaches_the_page_through_the_splice() -> None:
    # Even with the token known, a forged placeholder only puts the highlighter's own
    # lines back, and a placeholder that is not alone between two tags is not replaced:
    # the lines then go through nh3 with the rest.
    held = HeldOut()
    skeleton = highlight_code_blocks(
        to_html('```html\n<img src=x onerror="alert(1)"><script>x()</script>\n```\n'),
        HighlightSettings(),
        held,
    )
    forged = f'<p title="{held.token}-0-">a</p><pre>{held.token}-0-</pre>'
    assert _splice(sanitize(skeleton + forged), held, 3) is None  # index 0 twice
    in_attribute = f'<p title="x>{held.token}-1-<y">a</p>'
    assert _splice(sanitize(in_attribute), held, 1) is None
    assert _splice(sanitize(f"<p>{held.token}-7-</p>"), held, 1) is None  # no such lines
    page = render_post_body(
        '```html\n<img src=x onerror="alert(1)"><script>x()</script>\n```\n'
        f"<pre>{held.token}-0-</pre>\n",
        None,
        BodyOptions(),
    ).html
    assert re.search(r"<(?:img|script)\b", page) is None
    assert f"{held.token}-0-" in page  # a stale token is text like any other
    text = html.unescape(re.sub(r"<[^>]*>", "", page))
    assert '<img src=x onerror="alert(1)"><script>x()</script>' in text


def test_lines_with_a_formula_placeholder_go_through_nh3() -> None:
    # cmark leaves code in a list item's odd indentation to the math scanner: if a
    # formula's placeholder gets into highlighted lines, its MathML must meet nh3.
    body = "- a\n\n   ```js\n   var x = '$a_1$';\n   ```\n"
    spliced, through_nh3, _ = _both_ways(body, BodyOptions())
    assert spliced == through_nh3
