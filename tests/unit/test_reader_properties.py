"""Whatever the bytes, read_post returns a Post or raises PostError: nothing else escapes."""

from __future__ import annotations

import json
from datetime import date, datetime

import yaml
from blogpub.errors import PostError
from blogpub.models import Post
from blogpub.reader import read_post
from blogpub.settings import Settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

SITE = Settings(timezone="Europe/Berlin")
KEY = "_posts/prop/test.md"

FIELD_NAMES = st.sampled_from(
    [
        "title", "date", "updated", "categories", "category", "tags", "tag", "permalink",
        "published", "draft", "comments", "lang", "excerpt", "headimg", "author", "x",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(),
    st.datetimes(),
    st.sampled_from(
        [
            "2022-02-05 11:13:23", "Sat, 05 Feb 2022 11:13:23 GMT", "2022-02-30", "0000-00-00",
            "../x", "//evil", "archives/", "yes", "no", "", " ", "{{ x }}", "\u202e",
        ]
    ),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)
FRONT_MATTER = st.dictionaries(FIELD_NAMES, VALUES, max_size=8)


def yaml_text(front_matter: dict[str, object]) -> str:
    return yaml.safe_dump(front_matter, allow_unicode=True, default_flow_style=None)


def assert_post_or_post_error(raw: bytes) -> None:
    try:
        post = read_post(raw, KEY, SITE)
    except PostError as error:
        assert KEY in str(error)
        return
    assert isinstance(post, Post)
    assert post.date.tzinfo is not None
    assert post.updated is None or post.updated.tzinfo is not None
    assert all(isinstance(name, str) and name for h in post.categories for name in h)
    assert all(isinstance(tag, str) and tag for tag in post.tags)
    json.dumps(dict(post.extra), allow_nan=False)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(front_matter=FRONT_MATTER, body=st.text(max_size=50))
def test_random_front_matter(front_matter: dict[str, object], body: str) -> None:
    raw = f"---\n{yaml_text(front_matter)}---\n{body}".encode()

    assert_post_or_post_error(raw)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from(
            [
                "title: x", "date: 2022-02-05", "date: [", "tags: {a: 1}", "  - a", "- b",
                "categories:", "  - [A, B]", "? [a]\n: b", "<<: 1", "x: &a [*a]", "!!binary x",
                "x: !!timestamp 2022-99-99", "\t- tab", "key: 'unterminated", "---", "...",
                "%YAML 1.1", "x: !!python/name:os.system", ": novalue", "1: 2", "x: 0o17",
                "y: 1:30", "z: 0x1F",
            ]
        ),
        max_size=8,
    )
)  # fmt: skip
@example(lines=["x: !!timestamp 2022-99-99", "\t- tab"])  # once escaped as AttributeError
@example(lines=["x: !!int abc"])
def test_random_yaml_ish_lines(lines: list[str]) -> None:
    raw = ("---\n" + "\n".join(lines) + "\n---\nbody\n").encode()

    assert_post_or_post_error(raw)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200))
def test_random_bytes(raw: bytes) -> None:
    assert_post_or_post_error(raw)


@settings(max_examples=200, deadline=None)
@given(prefix=st.binary(max_size=40), front_matter=FRONT_MATTER)
def test_random_bytes_before_valid_front_matter(
    prefix: bytes, front_matter: dict[str, object]
) -> None:
    front_matter.setdefault("date", datetime(2022, 2, 5, 11, 13, 23))
    raw = prefix + f"---\n{yaml_text(front_matter)}---\n".encode()

    assert_post_or_post_error(raw)


def test_the_strategies_reach_valid_posts() -> None:
    # Guard against a property test that only ever exercises the error path.
    raw = f"---\n{yaml_text({'date': date(2022, 2, 5), 'tags': ['a']})}---\n".encode()

    assert isinstance(read_post(raw, KEY, SITE), Post)


_YAML_PIECES = st.sampled_from(
    ["a: 1\n", "a: 2\n", "b:\n", "  - x\n", "  - 12345678901234567890123456789012345\n",
     "c: {d: 1, d: 2}\n", "e: [1, 2, [3]]\n", "f: 1" + "0" * 70 + "\n", "g: 1.5\n", "? h\n",
     "i:\n  j: 1\n  j: 1\n", "k: 'x'\n", "- y\n", "l: !!int 0" + "1" * 70 + "\n"]
)  # fmt: skip


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_YAML_PIECES, max_size=10))
def test_alias_free_yaml_is_checked_as_the_full_check_checks_it(pieces: list[str]) -> None:
    # (_check_yaml_tree: the same fault reported first, for YAML without anchors or aliases)
    from blogpub.reader import _check_yaml_nodes, _check_yaml_tree, _hexo_yaml_loader

    try:
        node = yaml.compose("".join(pieces), Loader=_hexo_yaml_loader())
    except yaml.YAMLError:
        return
    if node is None:
        return
    faults = []
    for check in (_check_yaml_tree, _check_yaml_nodes):
        try:
            check(node)
            faults.append(None)
        except PostError as error:
            faults.append((type(error), str(error)))
    assert faults[0] == faults[1]
