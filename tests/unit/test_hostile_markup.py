"""Hostile bodies: the sanitiser's output is final, and nesting is bounded before rendering.

Run again on the lowest nh3 pyproject allows by tests/packaging/test_nh3_floor.py.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from blogpub.errors import TooComplexError, TooDeepError
from blogpub.markup import (
    MAX_INLINE_MARKERS,
    MAX_NESTING_DEPTH,
    MORE_ANCHOR,
    nesting_depth,
    render_body,
    to_html,
)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(page_html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page_html)
    parser.close()
    return parser.found


def handlers(page_html: str) -> list[str]:
    return [
        name for _, attrs in elements(page_html) for name in attrs if name.lower().startswith("on")
    ]


@pytest.mark.parametrize("quote", ['"', "'"])
@pytest.mark.parametrize("attribute", ["title", "alt", "lang"])
def test_a_marker_inside_an_attribute_cannot_close_it(quote: str, attribute: str) -> None:
    payload = "x<!-- more --><img src=x onerror=alert(1)>"
    body = f"<p {attribute}={quote}{payload}{quote}>text</p>\n\nafter\n"
    body_html, excerpt_html = render_body(body)
    for page_html in (body_html, excerpt_html):
        assert handlers(page_html) == []
        assert {tag for tag, _ in elements(page_html)} <= {"p", "img", "span"}


def test_the_old_placeholder_text_is_kept_as_written() -> None:
    body_html, _ = render_body("blogpubmoremarker9f2c and more\n")
    assert "blogpubmoremarker9f2c" in body_html
    assert 'id="more"' not in body_html


def test_the_marker_becomes_the_one_anchor_nh3_keeps() -> None:
    body_html, excerpt_html = render_body("Intro\n\n<!-- more -->\n\nRest <!-- more -->\n")
    assert body_html.count(MORE_ANCHOR) == 1
    assert excerpt_html == "<p>Intro</p>\n"
    # An author's own id on a span is still dropped: only "more" is allowed.
    assert 'id="nav"' not in render_body('<span id="nav">x</span>\n')[0]


def test_angle_brackets_never_stay_inside_attribute_values() -> None:
    body_html, _ = render_body('<h2 title="a>b">Head</h2>\n\n[l](https://e.example/a>b "t>x")\n')
    for _, attrs in elements(body_html):
        for value in attrs.values():
            assert value is None or ("<" not in value and ">" not in value)
    assert 'id="Head"' in body_html
    assert 'rel="noopener noreferrer"' in body_html


@pytest.mark.parametrize(
    "shape",
    [
        lambda n: "> " * n + "deep\n",
        lambda n: "".join("  " * level + "- item\n" for level in range(n)),
        lambda n: "<div>" * n + "x" + "</div>" * n,
        lambda n: "<ul><li>" * n + "x",
        lambda n: "1. " * n + "x\n",
    ],
)
def test_nesting_past_the_limit_is_rejected_before_rendering(shape: object) -> None:
    assert callable(shape)
    within, beyond = shape(MAX_NESTING_DEPTH - 2), shape(MAX_NESTING_DEPTH + 1)
    assert nesting_depth(within) <= MAX_NESTING_DEPTH
    assert to_html(within)
    with pytest.raises(TooDeepError) as raised:
        render_body(beyond)
    assert raised.value.reason == "too-deep"
    assert str(MAX_NESTING_DEPTH) in str(raised.value)


def test_the_limits_hold_at_their_length_where_the_counts_start() -> None:
    # text no longer than a limit skips its count: the shortest text past it is refused
    assert to_html(">" * MAX_NESTING_DEPTH)
    with pytest.raises(TooDeepError):
        to_html(">" * (MAX_NESTING_DEPTH + 1))
    with pytest.raises(TooComplexError) as raised:
        to_html("*" * (MAX_INLINE_MARKERS + 1))
    assert f"{MAX_INLINE_MARKERS + 1} emphasis" in str(raised.value)


def test_everyday_shapes_are_not_counted_as_nesting() -> None:
    assert nesting_depth("- - - - - - - - - - - - - - - -\n" * 20) <= MAX_NESTING_DEPTH
    assert nesting_depth("<p>para\n" * 1000 + "<br><hr><img src=x>" * 500) <= 1
    assert nesting_depth("-" * 5000 + "\n") == 0


def test_a_dot_dot_key_is_blamed_on_the_key_not_the_permalink() -> None:
    from blogpub.errors import PermalinkError, PostError
    from blogpub.reader import read_post
    from blogpub.settings import Settings

    with pytest.raises(PostError) as raised:
        read_post(b"---\ntitle: x\ndate: 2024-01-01\n---\nb\n", "_posts/../x.md", Settings())
    assert not isinstance(raised.value, PermalinkError)
    assert "object key" in str(raised.value) and "permalink" not in str(raised.value)
