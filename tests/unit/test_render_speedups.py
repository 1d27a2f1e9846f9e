"""The faster paths of issue 14's throughput work write exactly what the plain ones wrote."""

from __future__ import annotations

import html

import pytest
from blogpub.highlight import _CMARK_BLOCK, _lexer, token_lines
from blogpub.markup import (
    MAX_NESTING_DEPTH,
    _filter_attribute,
    _filter_attribute_remembered,
    nesting_depth,
    to_html,
)
from blogpub.tags.markup import _TAG_MARKUP, on_one_line
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
            text = html.escape(run_text, quote=True)
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
