"""Settings from _config.yml: Hexo's defaults, the corpus blog's config, bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from blogpub.errors import SettingsError
from blogpub.settings import DEFAULT_PERMALINK, Settings, load_settings


def test_no_config_gives_hexo_like_defaults() -> None:
    settings = load_settings(None)

    assert settings == Settings()
    assert settings.permalink == DEFAULT_PERMALINK == ":year/:month/:day/:title/"
    assert settings.timezone == "UTC"
    assert settings.root == "/"
    assert settings.per_page == 10
    assert (settings.feed_limit, settings.feed_content) == (20, "full")


def test_an_empty_config_is_the_defaults() -> None:
    assert load_settings(b"") == load_settings(None)
    assert load_settings("# only a comment\n") == load_settings(None)


def test_a_typical_config() -> None:
    settings = load_settings(
        "\ufefftitle: 我的博客\nsubtitle: sub\nauthor: Me\nlanguage: [zh-CN, en]\n"
        "timezone: Asia/Shanghai\nurl: https://blog.example/\nroot: blog\n"
        "permalink: /posts/:title/\nper_page: 5\ncategory_map: {新媒体: xin-mei-ti}\n"
        "tag_map:\n  C++: cpp\nfeed:\n  limit: 50\n  content: false\n"
    )

    assert settings.title == "我的博客"
    assert settings.language == "zh-CN"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.url == "https://blog.example"
    assert settings.root == "/blog/"
    assert settings.permalink == "posts/:title/"
    assert settings.per_page == 5
    assert settings.category_map == {"新媒体": "xin-mei-ti"}
    assert settings.tag_map == {"C++": "cpp"}
    assert (settings.feed_limit, settings.feed_content) == (50, "summary")


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("", 0),
        ("filename_case:", 0),
        ("filename_case: 0", 0),
        ("filename_case: 1", 1),
        ("filename_case: 2", 2),
    ],
)
def test_filename_case_is_hexos_0_1_or_2(line: str, value: int) -> None:
    assert load_settings(line).filename_case == value


@pytest.mark.corpus
def test_the_corpus_blog_config(corpus_dir: Path) -> None:
    raw = (corpus_dir / "hexo" / "titangene__hexo-blog" / "_config.yml").read_bytes()

    settings = load_settings(raw)

    assert settings.title == "Titangene Blog"
    assert settings.timezone == "Asia/Taipei"
    assert settings.language == "zh-tw"
    assert settings.url == "https://titangene.github.io"
    assert settings.permalink == "article/:title.html"
    assert settings.per_page == 10
    assert settings.category_map == {}
    assert settings.filename_case == 1  # category and tag slugs lowercased, as Hexo builds it
    # feed: {type: atom, path: atom.xml, limit: 20, hub: } has no `content` key, and
    # hexo-generator-feed defaults content to true.
    assert (settings.feed_limit, settings.feed_content) == (20, "full")


@pytest.mark.parametrize(
    ("feed_yaml", "limit", "content"),
    [
        ("feed: {limit: 0}", 20, "full"),  # 0/false is "all posts" in Hexo: kept bounded
        ("feed: {limit: false}", 20, "full"),
        ("feed: {content: true}", 20, "full"),
        ("feed:\n  content:", 20, "summary"),  # the README's blank `content:`
        ("feed: {content: summary}", 20, "summary"),
        ("feed: true", 20, "full"),
    ],
)
def test_feed_options_as_hexo_generator_feed_reads_them(
    feed_yaml: str, limit: int, content: str
) -> None:
    settings = load_settings(feed_yaml)

    assert (settings.feed_limit, settings.feed_content) == (limit, content)


@pytest.mark.parametrize(
    ("feed_yaml", "rss2_path"),
    [
        ("title: t", None),
        ("feed: {type: atom}", None),
        ("feed: {type: rss2}", "rss2.xml"),
        ("feed: {type: rss2, path: feed.xml}", "feed.xml"),
        ("feed: {type: rss2, path: /feeds/rss}", "feeds/rss.xml"),
        ("feed: {type: [atom, rss2]}", "rss2.xml"),
        ("feed: {type: [atom, rss2], path: [atom.xml, rss.xml]}", "rss.xml"),
        ("feed: {type: [rss2, atom], path: [rss, atom.xml]}", "rss.xml"),
        ("feed: {type: [atom, rss2], path: [atom.xml]}", "rss2.xml"),
        # A path whose form does not match the type's is hexo-generator-feed's default.
        ("feed: {type: [atom, rss2], path: feed.xml}", "rss2.xml"),
        ("feed: {type: [atom, rss2, json]}", "rss2.xml"),
        ("feed: {type: json}", None),
    ],
)
def test_rss2_feeds_as_hexo_generator_feed_reads_type_and_path(
    feed_yaml: str, rss2_path: str | None
) -> None:
    assert load_settings(feed_yaml).rss2_path == rss2_path


@pytest.mark.parametrize(
    "feed_yaml",
    [
        "feed: {type: rss2, path: atom.xml}",
        "feed: {type: rss2, path: ../rss2.xml}",
        "feed: {type: rss2, path: 'https://x/rss2.xml'}",
        "feed: {type: [atom, rss2], path: [atom.xml, 'a//b.xml']}",
    ],
)
def test_an_rss2_path_that_cannot_be_a_site_file_is_refused(feed_yaml: str) -> None:
    with pytest.raises(SettingsError, match=r"feed\.path"):
        load_settings(feed_yaml)


def test_per_page_zero_keeps_landing_pages_bounded() -> None:
    assert load_settings("per_page: 0").per_page == Settings().per_page


@pytest.mark.parametrize(
    ("url", "root", "path", "absolute"),
    [
        ("https://blog.example", "/", "/a/", "https://blog.example/a/"),
        ("https://blog.example/child", "/child/", "/a/", "https://blog.example/child/a/"),
        ("https://blog.example", "/child/", "/a/", "https://blog.example/child/a/"),
    ],
)
def test_absolute_urls_count_a_subdirectory_once(
    url: str, root: str, path: str, absolute: str
) -> None:
    assert load_settings(f"url: {url}\nroot: {root}").absolute(path) == absolute


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ("timezone: Mars/Olympus", "timezone"),
        ("per_page: -1", "per_page"),
        ("per_page: ten", "per_page"),
        ("per_page: true", "per_page"),
        ("feed: {limit: -5}", "limit"),
        ("feed: {limit: many}", "limit"),
        ("feed: {content: sometimes}", "feed.content"),
        ("category_map: [a, b]", "category_map"),
        ("tag_map: {a: }", "tag_map"),
        ("url: blog.example", "url"),
        ("url: ftp://blog.example", "url"),
        ("title: {a: 1}", "title"),
        ("permalink: [a]", "permalink"),
        ("filename_case: 3", "filename_case"),
        ("filename_case: '1'", "filename_case"),
        ("filename_case: true", "filename_case"),
        ("filename_case: lower", "filename_case"),
    ],
)
def test_bad_values_name_their_key(config: str, key: str) -> None:
    with pytest.raises(SettingsError, match=key):
        load_settings(config)


@pytest.mark.parametrize("raw", [b"title: [unclosed", b"- a list\n- not a mapping\n", b"\xff\xfe"])
def test_a_config_that_is_not_a_mapping_is_refused(raw: bytes) -> None:
    with pytest.raises(SettingsError, match=r"_config\.yml"):
        load_settings(raw)
