"""The faster paths of issue 14's throughput work write exactly what the plain ones wrote."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, unquote

import pytest
from blogpub.highlight import _CMARK_BLOCK, _lexer, token_lines
from blogpub.markup import (
    _MARKED_DEL,
    _MARKED_STRONG,
    _NOT_A_HIGHLIGHTER_TAG,
    _URL_NOISE,
    MAX_NESTING_DEPTH,
    _escape_markup_in_code,
    _filter_attribute,
    _filter_attribute_remembered,
    _html_depth,
    _marked_leftovers,
    nesting_depth,
    render_body,
    to_html,
)
from blogpub.mathml import _PROTECTED, _find_math, _free_stem, protect_math
from blogpub.tags import TagContext, expand_tags
from blogpub.tags.expand import _Expansion
from blogpub.tags.markup import _SCHEME, _TAG_MARKUP, _URL_SAFE, encode_url, on_one_line
from blogpub.tags.model import may_hold_tags
from blogpub.tags.registry import REGISTRY
from blogpub.tags.scan import Protected, protect, tag_tokens
from blogpub.urls import url_scheme
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.token import STANDARD_TYPES

from tests.conftest import REPO
from tests.unit.test_lexing import SAMPLES

CORPUS = REPO.parent / "shared" / "corpus"


def _reference_token_lines(code: str, lang: str | None) -> list[str]:
    """token_lines as it was written before (a span flushed per token and line piece)."""
    lexer, _ = _lexer(code, lang, False)
    lines: list[str] = []
    line: list[str] = []
    run_class, run_text = "", ""

    def css_class(kind: object) -> str:
        while kind not in STANDARD_TYPES and kind.parent is not None:  # type: ignore[attr-defined]
            kind = kind.parent  # type: ignore[attr-defined]
        css = STANDARD_TYPES.get(kind, "")
        return "" if css == "w" else css

    def flush() -> None:
        if run_text:
            text = html.escape(run_text, quote=False)  # (quotes plain since, as nh3 writes them)
            line.append(f'<span class="{run_class}">{text}</span>' if run_class else text)

    for token_type, value in lexer.get_tokens(code):
        css = css_class(token_type)
        for index, piece in enumerate(value.split("\n")):
            if index:
                flush()
                lines.append("".join(line))
                line.clear()
                run_class, run_text = css, piece
            elif css == run_class:
                run_text += piece
            else:
                flush()
                run_class, run_text = css, piece
    flush()
    lines.append("".join(line))
    return lines


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_token_lines_are_those_of_the_token_by_token_layout(lang: str) -> None:
    code = SAMPLES[lang] + "\n\n  trailing <&> \"'\n"
    assert token_lines(code, lang)[0] == _reference_token_lines(code, lang)


@pytest.mark.parametrize("lang", ["python", "javascript", None])
def test_token_lines_keep_private_use_characters_of_the_code_as_text(lang: str | None) -> None:
    # the span marks are private-use characters the code lacks: here the first ones are taken
    code = 'x = "\ue000k\ue001\ue002" # \ue003 <b>\nprint("\ue004")\n'
    lines = token_lines(code, lang)[0]
    assert lines == _reference_token_lines(code, lang)
    assert "\ue000k\ue001\ue002" in lines[0]


@pytest.mark.corpus
def test_token_lines_of_every_corpus_block_are_those_of_the_token_by_token_layout() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    checked = 0
    for path in sorted(CORPUS.rglob("*.md")):
        try:
            rendered = to_html(path.read_text(encoding="utf-8-sig"))
        except ValueError:
            continue
        for found in _CMARK_BLOCK.finditer(rendered):
            info = found.group(1)
            lang = html.unescape(info).split()[0] if info and info.strip() else None
            code = html.unescape(found.group(3))
            assert token_lines(code, lang)[0] == _reference_token_lines(code, lang), path
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("\n<p>a\nb</p>\n", "<p>a&#10;b</p>"),
        ('<a title="x\ny">t\nu</a>', '<a title="x\ny">t&#10;u</a>'),  # a break inside a tag stays
        ("a < b\n> c", "a < b\n> c"),  # "< b\n>" reads as a tag: kept as it is
        ("plain", "plain"),
    ],
)
def test_on_one_line_writes_breaks_outside_tags_only(fragment: str, expected: str) -> None:
    assert on_one_line(fragment) == expected
    parts = _TAG_MARKUP.split(fragment.strip("\n"))
    assert expected == "".join(
        p if i % 2 else p.replace("\n", "&#10;") for i, p in enumerate(parts)
    )


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        ("span", "k"),
        ("span", "k theme-dark"),
        ("figure", "highlight python"),
        ("code", "hljs js"),
        ("div", "note info"),
        ("span", "x" * 41),
        ("a", "<b>"),
    ],
)
def test_the_remembered_class_filter_answers_as_the_filter(tag: str, value: str) -> None:
    for _ in range(2):
        assert _filter_attribute_remembered(tag, "class", value) == _filter_attribute(
            tag, "class", value
        )
    assert _filter_attribute_remembered("a", "href", "javascript:x") == _filter_attribute(
        "a", "href", "javascript:x"
    )


@pytest.mark.parametrize(
    ("markdown", "too_deep"),
    [
        ("<div>" * 257, True),
        ("<div>" * 256, False),
        ("<p>" * 1000 + "<div>" * 257, True),
        ("<p>" * 1000 + "<div>" * 200, False),
        ("<p-x>" * 257, True),  # a custom element named like a void one nests
        ("<br>" * 1000 + "<img src=x>" * 1000, False),
        ("> " * 257 + "x", True),
        ("text\n" + "> " * 257 + "x", True),
        ("text\n" + "> " * 200 + "x", False),
    ],
)
def test_the_nesting_check_short_cuts_give_the_same_verdict(markdown: str, too_deep: bool) -> None:
    assert (nesting_depth(markdown) > MAX_NESTING_DEPTH) is too_deep


_NOT_NESTING_NAMES = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "rp", "rt",
}  # fmt: skip


def _reference_html_depth(markdown: str, limit: int) -> int:
    """The HTML part of nesting_depth as it was written before: a step per tag."""
    open_elements = deepest = 0
    for tag in re.finditer(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*?)?(/?)>", markdown):
        closing, name, self_closing = tag.groups()
        if name.lower() in _NOT_NESTING_NAMES:
            continue
        if closing:
            open_elements = max(open_elements - 1, 0)
        elif not self_closing:
            open_elements += 1
            deepest = max(deepest, open_elements)
            if deepest > limit:
                break
    return deepest


_NESTING_PIECES = st.sampled_from(
    ["<div>", "</div>", "<p>", "</p>", "<br/>", "<a href=x/>", "<b >", "</b>", "x", "<",
     "<img>", "<DIV class='a'>", "</ul >", "<ul/>", "<x <y>", "</div/>", "<Br>", "<brx>",
     "</BR>", "<a-b>", "<div\n>", "</p  >"]
)  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(_NESTING_PIECES, max_size=40), st.sampled_from([0, 1, 2, 5]))
def test_the_html_nesting_by_running_sums_is_the_tag_by_tag_count(
    pieces: list[str], limit: int
) -> None:
    markdown = "".join(pieces)
    assert _html_depth(markdown, limit) == _reference_html_depth(markdown, limit)


_TAG_PIECES = st.sampled_from(
    ["{% a %}", "{% enda %}", "{%", "%}", "{% b x:'%}' %}", "{%- c -%}", "{{ v }}", "x", "\n",
     "{% a", "%} y", "}"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_TAG_PIECES, max_size=20))
def test_the_tags_between_two_tags_are_those_found_in_the_text_between(pieces: list[str]) -> None:
    # (the expansion hands a paired tag's body the tags it already found there)
    text = "".join(pieces)
    tokens = list(tag_tokens(text))
    for first, opening in enumerate(tokens):
        for last in range(first + 1, len(tokens)):
            between = text[opening.end : tokens[last].start]
            shifted = [token.shifted(opening.end) for token in tokens[first + 1 : last]]
            assert shifted == list(tag_tokens(between))


def _reference_escape_in_code(html_text: str) -> str:
    """_escape_markup_in_code as it was written before: every pre and code element matched,
    those without a "<" inside given back as they were."""
    region = r"(<(pre|code)\b[^>]*>)([^<]*+(?:<(?!/\2\s*>)[^<]*+)*+)(</\2\s*>)"
    return re.sub(
        region,
        lambda found: (
            found[1] + _NOT_A_HIGHLIGHTER_TAG.sub("&lt;", found[3]) + found[4]
            if "<" in found[3]
            else found[0]
        ),
        html_text,
        flags=re.IGNORECASE,
    )


_CODE_PIECES = st.sampled_from(
    ["<code>", "</code>", "<pre>", "</pre >", "<PRE x>", "</CODE>", "<b>", "<span>", "<div>",
     "x", "<", ">", "<code class='a>'", "</pre", "<codex>", "</code\n>"]
)  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(_CODE_PIECES, max_size=14))
def test_markup_in_code_is_escaped_as_when_every_element_was_matched(pieces: list[str]) -> None:
    html_text = "".join(pieces)
    assert _escape_markup_in_code(html_text) == _reference_escape_in_code(html_text)


def test_markup_in_an_upper_case_pre_is_escaped_whatever_else_the_body_holds() -> None:
    # (it was escaped only where a lower-case "<pre" or "<code" stood somewhere in the body)
    pre = "<PRE class=x><a href='https://x.example/'>y</a></pre>\n"
    for body in (pre, pre + "\nand `code`\n"):
        assert render_body(body)[0].startswith("<pre>&lt;a href='https://x.example/'&gt;y")


def _reference_marked_leftovers(html_text: str) -> str:
    """_marked_leftovers as it was written before (every piece of the page in turn)."""
    pieces = re.split(r"(<[^<>]*>)", html_text)
    code_depth = 0
    for index, piece in enumerate(pieces):
        if index % 2:
            opening = re.match(r"<(/?)(?:pre|code|script|style|a)\b", piece, re.IGNORECASE)
            if opening is not None:
                code_depth += -1 if opening[1] else 1
        elif not code_depth and ("~" in piece or "**" in piece):
            strong = _MARKED_STRONG.sub(r"<strong>\1</strong>", piece)
            pieces[index] = _MARKED_DEL.sub(r"<del>\2</del>", strong)
    return "".join(pieces)


_LEFTOVER_PIECES = st.sampled_from(
    ["~a~", "~~b~~", "**c**", "中~（笑~）", "**（注）**中", " ", "<p>", "</p>", "<code>",
     "</code>", "<a href='~x~'>", "</a>", "<PRE class=x>", "</pre>", "<pre <b>", "<", ">",
     "<script>", "</script>", "<style>", "</style>", "<abbr>", "</abbr>", "~", "**"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_LEFTOVER_PIECES, max_size=16))
def test_marked_leftovers_rewrite_only_text_outside_code_as_before(pieces: list[str]) -> None:
    html_text = "".join(pieces)
    assert _marked_leftovers(html_text) == _reference_marked_leftovers(html_text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=16))
def test_encode_url_of_a_site_path_is_quote_of_unquote_as_before(path: str) -> None:
    if _SCHEME.match(path) is None:
        assert encode_url(path) == quote(unquote(path), safe=_URL_SAFE)


@pytest.mark.parametrize(
    "body",
    [
        "no math at all {% note %}x{% endnote %}",
        "{% math %}x^2{% endmath %}",
        "a $x$ b",
        "",
        "$ ls\n$ cd ..\ncosts 5 $ or 6 $",  # no "$" with a character after it
    ],
)
def test_math_protection_short_cut_leaves_what_the_scan_leaves(body: str) -> None:
    text, formulas = protect_math(body)
    assert (text == body) is (not formulas)


@pytest.mark.parametrize(
    ("tag", "attribute", "value"),
    [
        ("a", "href", "https://example.com/a?b=<c>"),
        ("a", "href", "HTTPS://example.com/"),
        ("a", "href", "data:text/html,<script>x</script>"),
        ("a", "href", " \tda\nta:text/html,x"),
        ("img", "src", "data:image/png;base64,AAAA"),
        ("img", "src", "\x01 DATA:image/gif;base64,AAAA"),
        ("img", "src", "data:text/html,x"),
        ("img", "src", "http://x/data:image/png"),
        ("img", "src", "/2020/01/x/a.png"),
        ("img", "alt", "a <b> c"),
        ("img", "srcset", "a.png 1x, data:image/png;base64,x 2x"),
        ("a", "rel", "NoFollow ugc evil"),
        ("blockquote", "cite", "javascript:alert(1)"),
    ],
)
def test_the_attribute_filter_short_cuts_answer_as_the_full_checks(
    tag: str, attribute: str, value: str
) -> None:
    brackets = str.maketrans(
        {"<": "%3C", ">": "%3E"}
        if attribute in ("href", "src", "srcset", "cite")
        else {"<": "\u2039", ">": "\u203a"}
    )
    expected = value.translate(brackets)
    if attribute == "rel":
        kept = [t for t in expected.lower().split() if t in ("nofollow", "ugc", "sponsored")]
        assert _filter_attribute(tag, attribute, value) == " ".join(kept)
        return
    if attribute != "srcset" and url_scheme(expected) == "data":
        is_image = _URL_NOISE.sub("", expected).strip().lower().startswith("data:image/")
        expected = expected if (tag, attribute) == ("img", "src") and is_image else None
    if attribute == "srcset":
        expected = None
    assert _filter_attribute(tag, attribute, value) == expected


_BRACE_PIECES = st.sampled_from(
    ["{", "}", "%", "#", "{%", "%}", "{{", "}}", "{#", "#}", "`", "```\n", "\n", "a ", "<code>",
     "</code>", "{% raw %}", "{% note %}", "{% endnote %}", "{% nope %}", "$"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_BRACE_PIECES, max_size=12))
def test_a_body_without_tag_openers_skips_the_expansion_with_the_same_result(
    pieces: list[str],
) -> None:
    body = "".join(pieces)
    context = TagContext(render_markdown=to_html)
    expansion = _Expansion(context, REGISTRY, Protected(body))
    expanded = expansion.protected.restore(expansion.expand(protect(body, expansion.protected), 1))
    result = expand_tags(body, context)
    if not may_hold_tags(body):
        assert (result.text, result.warnings) == (body, ())
    assert result.text == expanded


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("a {# hidden #} b", "<p>a  b</p>"),  # a comment alone still goes
        ("a {{ b", "<p>a</p>"),  # an unclosed {{ still ends the post, as in Hexo
        ("a { b } c", "<p>a { b } c</p>"),
    ],
)
def test_the_tag_openers_decide_whether_a_body_is_expanded(body: str, shown: str) -> None:
    assert render_body(body)[0].strip() == shown


def _reference_protect_math(body: str) -> str:
    """protect_math's text as it was written before (every stretch sliced and scanned)."""
    stem = _free_stem(body)
    count = 0

    def placeholder() -> str:
        nonlocal count
        count += 1
        return f"{stem}{count - 1}x"

    def scan(stretch: str) -> str:
        out, cursor = [], 0
        for start, end, _, _ in _find_math(stretch):
            out += (stretch[cursor:start], placeholder())
            cursor = end
        return "".join(out) + stretch[cursor:]

    pieces, cursor = [], 0
    for match in _PROTECTED.finditer(body):
        pieces.append(scan(body[cursor : match.start()]))
        pieces.append(placeholder() if match.group("math") is not None else match.group(0))
        cursor = match.end()
    return "".join(pieces) + scan(body[cursor:])


_MATH_PIECES = st.sampled_from(
    ["$x$", "$$y^2$$", "$", "$$", "\\$", " ", "\n", "\n\n", "a", "`$a$`", "```\n$b$\n```\n",
     "<a title='$c$'>", "](u$v$)", "{% math %}z{% endmath %}", "{% raw %}$d${% endraw %}", "5",
     "$ ", "\t$\n", "http://h$"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_MATH_PIECES, max_size=10))
def test_math_protection_writes_the_text_of_the_stretch_by_stretch_scan(pieces: list[str]) -> None:
    body = "".join(pieces)
    text, formulas = protect_math(body)
    assert text == _reference_protect_math(body)
    assert [formula.placeholder for formula in formulas] == [
        f"{_free_stem(body)}{index}x" for index in range(len(formulas))
    ]
