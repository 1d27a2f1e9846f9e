"""Reading Hexo source files into posts: Hexo's field semantics and every bad-input case."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from blogpub.errors import (
    DateError,
    EncodingError,
    FieldTypeError,
    FrontMatterError,
    PermalinkError,
    PostError,
    TooLargeError,
)
from blogpub.models import Post
from blogpub.reader import MAX_CATEGORY_NODES, MAX_TAGS, post_name, read_post
from blogpub.settings import Settings

from tests.conftest import SEED_POST

SITE = Settings(timezone="Asia/Taipei")
KEY = "_posts/notes/hello world.md"


def source(front_matter: str, body: str = "Hello.\n") -> bytes:
    return f"---\n{front_matter}\n---\n{body}".encode()


def read(front_matter: str, body: str = "Hello.\n", key: str = KEY) -> Post:
    return read_post(source(front_matter, body), key, SITE)


# --- the seed post -------------------------------------------------------------------


def test_seed_post_reads_as_hexo_would() -> None:
    post = read_post(SEED_POST.read_bytes(), "_posts/000_d87f2d6de0cb2939.md", Settings())

    assert post.title == "李文艺主持召开疫情防控视频调度会议"
    assert post.date == datetime(2022, 2, 5, 11, 13, 23, tzinfo=UTC)
    assert post.categories == (("新媒体", "趣头条", "分类"),)
    assert post.tags == ()
    assert post.comments is False
    assert post.published is True
    assert post.name == "000_d87f2d6de0cb2939"
    assert post.extra["author"] == "趣头条"
    assert post.extra["headimg"] == post.extra["thumbnail"]
    assert post.extra["headimg"].startswith("https://cors.zfour.workers.dev/?http://static.1sapp")
    assert set(post.extra) == {"headimg", "thumbnail", "author"}
    assert post.cover == post.extra["headimg"]
    assert post.body.lstrip().startswith("<div>")
    assert "title:" not in post.body


# --- fields --------------------------------------------------------------------------


def test_title_defaults_to_the_file_name_without_extension() -> None:
    post = read("date: 2022-02-05")

    assert post.title == "hello world"
    assert post.name == "notes/hello world"


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("_posts/a/b c.md", "a/b c"),
        ("_posts/新媒体/趣头条/标题.markdown", "新媒体/趣头条/标题"),
        ("_posts/no-extension", "no-extension"),
        ("_posts/v1.2.md", "v1.2"),
    ],
)
def test_name_is_the_key_below_the_prefix_without_extension(key: str, name: str) -> None:
    assert post_name(key) == name
    assert read("date: 2022-02-05", key=key).name == name


def test_a_key_outside_the_posts_prefix_is_refused() -> None:
    with pytest.raises(PostError, match=r"drafts/x\.md"):
        read_post(source("date: 2022-02-05"), "drafts/x.md", SITE)


def test_numbers_and_dates_as_title_become_text() -> None:
    assert read("title: 2022\ndate: 2022-02-05").title == "2022"
    assert read("title: 2022-02-05\ndate: 2022-02-05").title == "2022-02-05"


def test_naive_dates_are_in_the_site_timezone() -> None:
    post = read("date: 2022-02-05 19:13:23\nupdated: '2022-02-06 08:00:00'")

    assert post.date == datetime(2022, 2, 5, 11, 13, 23, tzinfo=UTC)
    assert post.date.utcoffset() == timedelta(hours=8)
    assert post.updated == datetime(2022, 2, 6, 8, 0, tzinfo=ZoneInfo("Asia/Taipei"))


def test_updated_is_none_when_absent_never_a_file_time() -> None:
    assert read("date: 2022-02-05").updated is None


def test_a_flat_category_list_is_one_hierarchy() -> None:
    post = read("date: 2022-02-05\ncategories: [A, B, C]")

    assert post.categories == (("A", "B", "C"),)


def test_a_plain_category_string_is_one_category() -> None:
    assert read("date: 2022-02-05\ncategories: Diary").categories == (("Diary",),)


def test_a_list_of_lists_gives_one_hierarchy_per_item() -> None:
    post = read("date: 2022-02-05\ncategories:\n  - [A, B]\n  - [C]\n  - D")

    assert post.categories == (("A", "B"), ("C",), ("D",))


def test_empty_and_repeated_categories_are_dropped() -> None:
    post = read("date: 2022-02-05\ncategories: [[A, B], [A, B], [], [C, '', null]]")

    assert post.categories == (("A", "B"), ("C",))


def test_numbers_are_category_and_tag_names_as_in_hexo() -> None:
    post = read("date: 2022-02-05\ncategories: [2022, 1.5]\ntags: [3, 4.0]")

    assert post.categories == (("2022", "1.5"),)
    assert post.tags == ("3", "4")


@pytest.mark.parametrize(
    ("front_matter", "tags"),
    [
        ("tags: Python", ("Python",)),
        ("tags: [Python, Go, Python]", ("Python", "Go")),
        ("tags:\n  - yes\n  - on\n  - off", ("yes", "on", "off")),
        ("tags: []", ()),
        ("tags:", ()),
    ],
)
def test_tags_as_a_string_or_a_list(front_matter: str, tags: tuple[str, ...]) -> None:
    assert read(f"date: 2022-02-05\n{front_matter}").tags == tags


def test_singular_aliases() -> None:
    post = read("date: 2022-02-05\ncategory: [A, B]\ntag: solo")

    assert post.categories == (("A", "B"),)
    assert post.tags == ("solo",)
    assert "category" not in post.extra
    assert "tag" not in post.extra


def test_the_plural_key_wins_over_its_alias() -> None:
    post = read("date: 2022-02-05\ncategories: [A]\ncategory: [B]")

    assert post.categories == (("A",),)
    assert post.extra["category"] == ["B"]


def test_defaults() -> None:
    post = read("date: 2022-02-05")

    assert post.published is True
    assert post.comments is True
    assert post.permalink is None
    assert post.lang is None
    assert post.excerpt is None
    assert post.extra == {}


@pytest.mark.parametrize(
    ("front_matter", "published"),
    [
        ("published: false", False),
        ("published: true", True),
        ("published: no", False),
        ("draft: true", False),
        ("draft: false", True),
        ("draft: true\npublished: true", True),
    ],
)
def test_published_and_draft(front_matter: str, published: bool) -> None:
    assert read(f"date: 2022-02-05\n{front_matter}").published is published


def test_files_in_the_drafts_folder_are_not_published() -> None:
    assert read("date: 2022-02-05", key="_posts/_drafts/idea.md").published is False


def test_simple_fields() -> None:
    post = read(
        "date: 2022-02-05\ncomments: false\nlang: zh-CN\nexcerpt: Short *intro*\n"
        "permalink: /about/me/"
    )

    assert post.comments is False
    assert post.lang == "zh-CN"
    assert post.excerpt == "Short *intro*"
    assert post.permalink == "about/me/"


def test_other_keys_pass_through_json_safe() -> None:
    post = read(
        "date: 2022-02-05\ncover: /img/c.png\nlayout: post\nseries: {part: 2, at: 2022-01-01}\n"
        "when: 2022-02-05 10:00:00\nratio: .nan\npics: [a.png, b.png]\n7: seven\n"
        "blob: !!binary aGk=\nset: !!set {b, a}"
    )

    assert post.extra["cover"] == "/img/c.png"
    assert post.extra["series"] == {"part": 2, "at": "2022-01-01"}
    assert post.extra["when"] == "2022-02-05T10:00:00"
    assert post.extra["ratio"] == "nan"
    assert post.extra["pics"] == ["a.png", "b.png"]
    assert post.extra["7"] == "seven"
    assert post.extra["blob"] == "aGk="
    assert post.extra["set"] == ["a", "b"]
    assert json.loads(json.dumps(dict(post.extra), allow_nan=False)) == post.extra


def test_body_is_everything_after_the_closing_fence() -> None:
    post = read("date: 2022-02-05", body="\n# Title\n\n    code\n---\nafter\n")

    assert post.body == "# Title\n\n    code\n---\nafter\n"


def test_a_byte_order_mark_is_ignored() -> None:
    post = read_post(b"\xef\xbb\xbf" + source("title: BOM\ndate: 2022-02-05"), KEY, SITE)

    assert post.title == "BOM"


def test_windows_line_endings() -> None:
    raw = source("title: CRLF\ndate: 2022-02-05\ntags: [a]", "x\ny\n").replace(b"\n", b"\r\n")

    post = read_post(raw, KEY, SITE)

    assert (post.title, post.tags, post.body) == ("CRLF", ("a",), "x\ny\n")


def test_leading_blank_lines_and_tab_indentation_as_hexo_allows() -> None:
    raw = b"\n\n---\ntitle: T\ndate: 2022-02-05\ntags:\n\t- a\n\t- b\n---\nbody\n"

    post = read_post(raw, KEY, SITE)

    assert (post.title, post.tags) == ("T", ("a", "b"))


def test_front_matter_without_an_opening_fence_as_hexo_reads_it() -> None:
    raw = b"title: New style\ndate: 2022-02-05\n---\nbody\n"

    post = read_post(raw, KEY, SITE)

    assert (post.title, post.body) == ("New style", "body\n")


# --- bad input -----------------------------------------------------------------------


def assert_names(error: PostError, *parts: str) -> None:
    message = str(error)
    assert KEY in message
    for part in parts:
        assert part in message


@pytest.mark.parametrize(
    ("raw", "error_type"),
    [
        (b"---\ntitle: x\ndate: 2022-02-05\n---\n\xff\xfe bad", EncodingError),
        (b"---\ntitle: x\x00\n---\n", EncodingError),
        (b"", FrontMatterError),
        (b"  \n\n", FrontMatterError),
        (b"---\ntitle: no closing fence\ndate: 2022-02-05\nbody\n", FrontMatterError),
        (b"---\ntitle: [unclosed\ndate: 2022-02-05\n---\n", FrontMatterError),
        (b"---\n- a\n- b\n---\n", FrontMatterError),
        (b"---\njust a string\n---\n", FrontMatterError),
        (b"---\n!!python/object:os.system {}\n---\n", FrontMatterError),
        (b"---\ndate: 2022-02-05\nx: !!int abc\n---\n", FrontMatterError),
        (b';;;\n"title": "json"\n;;;\n', FrontMatterError),
        (b"no front matter at all\n", DateError),
        (b"---\ntitle: x\n---\n", DateError),
    ],
)
def test_files_that_cannot_be_posts(raw: bytes, error_type: type[PostError]) -> None:
    with pytest.raises(error_type) as raised:
        read_post(raw, KEY, SITE)

    assert_names(raised.value)
    assert raised.value.source == KEY


@pytest.mark.parametrize(
    ("front_matter", "error_type", "key", "value"),
    [
        ("date: tomorrow", DateError, "date", "tomorrow"),
        ("date: 2022-02-30", DateError, "date", "2022-02-30"),
        ("date: !!timestamp 2022-99-99", DateError, "date", "2022-99-99"),
        ("date: 1644059603", DateError, "date", "1644059603"),
        ("date: 2022-02-05\nupdated: soon", DateError, "updated", "soon"),
        ("date: 2022-02-05\ntitle: {a: 1}", FieldTypeError, "title", "{'a': 1}"),
        ("date: 2022-02-05\ntitle: [a, b]", FieldTypeError, "title", "['a', 'b']"),
        ("date: 2022-02-05\ncategories: {a: b}", FieldTypeError, "categories", "{'a': 'b'}"),
        ("date: 2022-02-05\ncategories: [[A, [B]]]", FieldTypeError, "categories", "['B']"),
        ("date: 2022-02-05\ncategory: [true]", FieldTypeError, "category", "True"),
        ("date: 2022-02-05\ntags: [[a, b]]", FieldTypeError, "tags", "['a', 'b']"),
        ("date: 2022-02-05\ntag: {x: 1}", FieldTypeError, "tag", "{'x': 1}"),
        ("date: 2022-02-05\ntags: [2022-01-01]", FieldTypeError, "tags", "2022, 1, 1"),
        ("date: 2022-02-05\ncomments: maybe", FieldTypeError, "comments", "maybe"),
        ("date: 2022-02-05\npublished: [no]", FieldTypeError, "published", "['no']"),
        ("date: 2022-02-05\nexcerpt: {a: 1}", FieldTypeError, "excerpt", "{'a': 1}"),
    ],
)
def test_fields_of_the_wrong_type(
    front_matter: str, error_type: type[PostError], key: str, value: str
) -> None:
    with pytest.raises(error_type) as raised:
        read(front_matter)

    assert raised.value.key == key
    assert_names(raised.value, repr(key), value)


def test_too_many_category_nodes() -> None:
    levels = ", ".join(f"L{i}" for i in range(MAX_CATEGORY_NODES + 1))

    with pytest.raises(FieldTypeError) as raised:
        read(f"date: 2022-02-05\ncategories: [{levels}]")

    assert_names(raised.value, "'categories'", "L10")


def test_category_nodes_are_counted_once_across_hierarchies() -> None:
    # [A, B1..B9] shares its root: 1 + 9 nodes is exactly the limit.
    hierarchies = ", ".join(f"[A, B{i}]" for i in range(1, MAX_CATEGORY_NODES))

    post = read(f"date: 2022-02-05\ncategories: [{hierarchies}]")

    assert len(post.categories) == MAX_CATEGORY_NODES - 1


def test_too_many_tags() -> None:
    tags = ", ".join(f"t{i}" for i in range(MAX_TAGS + 1))

    with pytest.raises(FieldTypeError) as raised:
        read(f"date: 2022-02-05\ntags: [{tags}]")

    assert_names(raised.value, "'tags'", "t10")


@pytest.mark.parametrize(
    "permalink",
    [
        "../../etc/passwd",
        "a/../../b/",
        "a/%2e%2e/b",
        "https://evil.example/",
        "//evil.example/x",
        "javascript:alert(1)",
        "a\\b",
        "a\tb/",
        "x\u202e/",
        "a//b/",
        "x/?q=1",
        "",
        "/",
        "archives/",
        "archives/2022/02/",
        "categories/a/",
        "tags/x/",
        "sitemaps/2022-02.xml",
        "atom.xml",
        "/sitemap.xml",
        "404.html",
        "robots.txt",
        "index.html",
        ["a"],
    ],
)
def test_permalinks_that_leave_the_site_or_shadow_its_pages(permalink: object) -> None:
    if permalink == "":
        # An empty permalink means "none", as in Hexo; "/" is the home page.
        assert read("date: 2022-02-05\npermalink: ''").permalink is None
        return
    with pytest.raises(PermalinkError) as raised:
        read(f"date: 2022-02-05\npermalink: {json.dumps(permalink)}")

    assert raised.value.key == "permalink"
    assert_names(raised.value, "'permalink'")


@pytest.mark.parametrize("permalink", ["about/", "2022/my-post.html", "/日记/第一篇/", "a b/"])
def test_permalinks_on_the_site_are_kept(permalink: str) -> None:
    post = read(f"date: 2022-02-05\npermalink: {json.dumps(permalink)}")

    assert post.permalink == permalink.lstrip("/")


def test_alias_bombs_are_refused_not_expanded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]

    with pytest.raises(TooLargeError):
        read("date: 2022-02-05\n" + "\n".join(lines))


def test_recursive_yaml_is_refused() -> None:
    with pytest.raises(PostError):
        read("date: 2022-02-05\nloop: &loop [*loop]")


def test_huge_extra_values_are_refused_naming_the_key() -> None:
    with pytest.raises(TooLargeError) as raised:
        read(f"date: 2022-02-05\nnotes: {'x' * 70_000}")

    assert raised.value.key == "notes"
