"""URL rules: Hexo permalink tokens, slugize, listing URLs, encoding."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
from blogpub import urls
from blogpub.errors import PermalinkError
from blogpub.models import SITE, ListRef, Post
from blogpub.settings import Settings

from tests.conftest import make_post as any_post

SHANGHAI = Settings(timezone="Asia/Shanghai", url="https://blog.example.com")


def make_post(**overrides: object) -> Post:
    """The seed post's URL-relevant fields, with the given ones."""
    seed: dict[str, object] = {
        "source_key": "_posts/000_d87f2d6de0cb2939.md",
        "name": "000_d87f2d6de0cb2939",
        "title": "李文艺主持召开疫情防控视频调度会议",
        "categories": (("新媒体", "趣头条", "分类"),),
    }
    return any_post(**(seed | overrides))


def url_with(rule: str, post: Post | None = None, **settings: object) -> str:
    chosen = replace(SHANGHAI, permalink=rule, **settings)  # type: ignore[arg-type]
    return urls.post_url(post or make_post(), chosen)


# --- post URLs -------------------------------------------------------------------------


def test_default_permalink_uses_the_site_timezone_and_the_key_below_the_prefix() -> None:
    assert urls.post_url(make_post(), SHANGHAI) == "/2022/02/05/000_d87f2d6de0cb2939/"


def test_date_tokens_follow_the_site_timezone_across_midnight() -> None:
    late_utc = make_post(date=datetime(2022, 1, 31, 20, 30, tzinfo=UTC))
    assert url_with(":year/:month/:day/:hour/:minute/:second/", late_utc) == (
        "/2022/02/01/04/30/00/"
    )
    assert urls.post_url(late_utc, replace(SHANGHAI, timezone="UTC")).startswith("/2022/01/31/")


def test_unpadded_month_and_day_tokens() -> None:
    post = make_post(date=datetime(2022, 3, 7, 0, 0, tzinfo=timezone(timedelta(hours=8))))
    assert url_with(":year/:i_month/:i_day/:title/", post) == "/2022/3/7/000_d87f2d6de0cb2939/"


def test_title_keeps_folders_and_name_takes_the_last_segment() -> None:
    post = make_post(name="新媒体/趣头条/a b")
    assert url_with(":title/", post) == "/新媒体/趣头条/a b/"
    assert url_with(":title/:name", post) == "/新媒体/趣头条/a b/a b/"


def test_post_title_is_the_lower_case_slug_of_the_title() -> None:
    post = make_post(title="My New Post")
    assert url_with(":year/:month/:day/:post_title/", post) == "/2022/02/05/my-new-post/"


def test_category_is_the_slug_path_of_the_deepest_category() -> None:
    post = make_post(categories=(("Foo Bar", "baz"), ("other",)))
    assert url_with(":category/:title/", post) == "/Foo-Bar/baz/000_d87f2d6de0cb2939/"


def test_category_without_categories_is_hexos_default() -> None:
    assert url_with(":category/:title/", make_post(categories=())) == (
        "/uncategorized/000_d87f2d6de0cb2939/"
    )


def test_category_map_applies_before_slugize() -> None:
    post = make_post(categories=(("新媒体",),))
    assert url_with(":category/:title/", post, category_map={"新媒体": "new media"}) == (
        "/new-media/000_d87f2d6de0cb2939/"
    )


def test_hash_is_sha1_of_name_and_unix_seconds() -> None:
    post = make_post()
    expected = hashlib.sha1(b"000_d87f2d6de0cb2939" + b"1644059603").hexdigest()[:12]
    assert url_with(":hash/", post) == f"/{expected}/"


def test_timestamp_token_is_unix_seconds() -> None:
    assert url_with("p/:timestamp/") == "/p/1644059603/"


def test_front_matter_values_fill_other_tokens_and_unknown_ones_are_errors() -> None:
    post = make_post(extra={"layout": "post"}, lang="fr")
    assert url_with(":layout/:lang/:title/", post) == "/post/fr/000_d87f2d6de0cb2939/"
    with pytest.raises(PermalinkError, match=":nothing"):
        url_with(":nothing/:title/", post)


def test_token_does_not_swallow_a_trailing_underscore() -> None:
    assert url_with(":year_:month/") == "/2022_02/"


def test_html_permalinks_keep_their_extension_and_others_become_directories() -> None:
    assert url_with("article/:title.html") == "/article/000_d87f2d6de0cb2939.html"
    assert url_with(":title") == "/000_d87f2d6de0cb2939/"


def test_front_matter_permalink_overrides_relative_to_root() -> None:
    assert urls.post_url(make_post(permalink="about/"), SHANGHAI) == "/about/"
    assert urls.post_url(make_post(permalink="/notes/colophon.html"), SHANGHAI) == (
        "/notes/colophon.html"
    )
    assert urls.post_url(make_post(permalink="about"), SHANGHAI) == "/about/"


def test_an_index_html_permalink_is_the_directory_url_it_is_stored_as() -> None:
    assert urls.post_url(make_post(permalink="about/index.html"), SHANGHAI) == "/about/"
    assert url_with(":title/index.html") == "/000_d87f2d6de0cb2939/"


@pytest.mark.parametrize(
    "permalink",
    [
        "archives/2022/02/",
        "categories/x/",
        "tags/y/",
        "sitemaps/2022-01.xml",
        "atom.xml",
        "sitemap.xml",
        "404.html",
        "robots.txt",
        "/",
    ],
)
def test_index_page_paths_are_reserved(permalink: str) -> None:
    with pytest.raises(PermalinkError, match="reserved"):
        urls.post_url(make_post(permalink=permalink), SHANGHAI)


@pytest.mark.parametrize("name", ["../escape", "a//b", "a/./b"])
def test_dot_and_empty_segments_are_rejected(name: str) -> None:
    with pytest.raises(PermalinkError, match="segment"):
        url_with(":title/", make_post(name=name))


def test_is_reserved_leaves_ordinary_posts_alone() -> None:
    assert not urls.is_reserved("/2022/02/05/x/")
    assert not urls.is_reserved("/archive/x/")
    assert urls.is_reserved("/tags/")


# --- slugize: the values hexo-util gives ------------------------------------------------

# hexo-util 3.3.0 under Node 20.20: (text, slugize(text), slugize(text, {transform: 1})).
HEXO_UTIL_SLUGIZE = [
    ("Hello World", "Hello-World", "hello-world"),
    ("Hellò wòrld", "Hello-world", "hello-world"),
    ("Hello  World", "Hello-World", "hello-world"),
    ("~Hello World~", "Hello-World", "hello-world"),
    ("Hello ~`!@#$%^&*()-_+=[]{}|\\;:\"'<>,.?/World", "Hello-World", "hello-world"),
    ("遊戲", "遊戲", "遊戲"),
    ("新媒体", "新媒体", "新媒体"),
    ("IT 鐵人賽", "IT-鐵人賽", "it-鐵人賽"),
    ("中文\u3000空格", "中文-空格", "中文-空格"),
    ("C++", "C", "c"),
    ("a\x00b", "ab", "ab"),
    ("Ærøskøbing Straße", "AEroskobing-Strase", "aeroskobing-strase"),
    ("Straße Æon", "Strase-AEon", "strase-aeon"),
    ("Ørsted Œuvre", "Orsted-OEuvre", "orsted-oeuvre"),
    ("Łódź Đakovo Ħal", "Lodz-Dakovo-Hal", "lodz-dakovo-hal"),
    ("が", "が", "が"),
    ("한국어", "한국어", "한국어"),
    ("Ｆｕｌｌ", "Full", "full"),
    ("Ⓐⓑ", "Ab", "ab"),
    ("ẞ groß", "S-gros", "s-gros"),
    ("ı dotless", "i-dotless", "i-dotless"),
    ("İstanbul", "Istanbul", "istanbul"),
    ("Ĳssel", "Ĳssel", "ĳssel"),
    ("Vue 3 + Vite 🚀", "Vue-3-Vite-🚀", "vue-3-vite-🚀"),
    ("🎉🎉", "🎉🎉", "🎉🎉"),
    ("MiXeD CaSe", "MiXeD-CaSe", "mixed-case"),
    ("a---b", "a-b", "a-b"),
    ("a___b", "a-b", "a-b"),
    ("a - - b", "a-b", "a-b"),
    ("--lead and trail--", "lead-and-trail", "lead-and-trail"),
    ("tab\there", "tabhere", "tabhere"),
    ("nbsp\xa0here", "nbsp-here", "nbsp-here"),
    ("zero\u200bwidth", "zero\u200bwidth", "zero\u200bwidth"),
    ("bom\ufeffhere", "bom-here", "bom-here"),
    ("em\u2003space", "em-space", "em-space"),
    ("日本語 タイトル", "日本語-タイトル", "日本語-タイトル"),
    ("e.g. (example)", "e-g-example", "e-g-example"),
    ("100% sure?", "100-sure", "100-sure"),
    ("«quoted» “curly”", "«quoted»-“curly”", "«quoted»-“curly”"),
    ("a—b–c", "a—b–c", "a—b–c"),
    ("ﬁ", "ﬁ", "ﬁ"),
    ("№ 5", "№-5", "№-5"),
    ("x\x85y", "x\x85y", "x\x85y"),
    ("ſ long s", "l-long-s", "l-long-s"),
]


@pytest.mark.parametrize(("text", "slug", "lower_slug"), HEXO_UTIL_SLUGIZE)
def test_slugize_gives_what_hexo_util_gives(text: str, slug: str, lower_slug: str) -> None:
    assert urls.slugize(text) == slug
    assert urls.slugize(text, transform=1) == lower_slug


# hexo-util 3.3.0 under Node 20.20: (text, transform 1, transform 2), the two filename_case
# values; JavaScript's case mapping (final sigma, ligatures, iota subscript) is Python's.
HEXO_UTIL_SLUGIZE_CASES = [
    ("Hello World", "hello-world", "HELLO-WORLD"),
    ("Hellò wòrld", "hello-world", "HELLO-WORLD"),
    ("IT 鐵人賽", "it-鐵人賽", "IT-鐵人賽"),
    ("遊戲", "遊戲", "遊戲"),
    ("Ærøskøbing Straße", "aeroskobing-strase", "AEROSKOBING-STRASE"),
    ("ẞ groß", "s-gros", "S-GROS"),
    ("ı dotless", "i-dotless", "I-DOTLESS"),
    ("İstanbul", "istanbul", "ISTANBUL"),
    ("Ĳssel", "ĳssel", "ĲSSEL"),
    ("MiXeD CaSe", "mixed-case", "MIXED-CASE"),
    ("ﬁ", "ﬁ", "FI"),
    ("ſ long s", "l-long-s", "L-LONG-S"),
    ("Vue 3 + Vite 🚀", "vue-3-vite-🚀", "VUE-3-VITE-🚀"),
    ("ΟΔΟΣ Σίσυφος", "οδος-σίσυφος", "ΟΔΟΣ-ΣΊΣΥΦΟΣ"),
    ("ﬁx ﬂow", "ﬁx-ﬂow", "FIX-FLOW"),
    ("ǅungla", "dzungla", "DZUNGLA"),
    ("µ micro", "µ-micro", "Μ-MICRO"),
    ("Ὰ ᾳ", "ὰ-ᾳ", "Ὰ-ΑΙ"),
    ("ǰ", "j", "J"),
    ("ᾀ", "ᾀ", "ἈΙ"),
    ("Ä Ö Ü ä ö ü", "a-o-u-a-o-u", "A-O-U-A-O-U"),
    ("日本語 タイトル", "日本語-タイトル", "日本語-タイトル"),
]


@pytest.mark.parametrize(("text", "lower_slug", "upper_slug"), HEXO_UTIL_SLUGIZE_CASES)
def test_slugize_transforms_case_as_hexo_util_does(
    text: str, lower_slug: str, upper_slug: str
) -> None:
    assert urls.slugize(text, transform=1) == lower_slug
    assert urls.slugize(text, transform=2) == upper_slug


# --- listings -----------------------------------------------------------------------------


def test_category_refs_list_every_node_of_every_hierarchy_once_root_first() -> None:
    post = make_post(categories=(("A", "B", "C"), ("A", "D"), ("新 媒体",)))
    refs = urls.category_refs(post, SHANGHAI)
    assert [r.slugs for r in refs] == [
        ("A",),
        ("A", "B"),
        ("A", "B", "C"),
        ("A", "D"),
        ("新-媒体",),
    ]
    assert refs[2].names == ("A", "B", "C")
    assert all(r.kind == "category" for r in refs)


def test_tag_refs_use_tag_map_and_deduplicate_by_slug() -> None:
    post = make_post(tags=("Vue.js", "vue js", "IT 鐵人賽"))
    refs = urls.tag_refs(post, replace(SHANGHAI, tag_map={"IT 鐵人賽": "ironman"}))
    assert [(r.slugs, r.names) for r in refs] == [
        (("Vue-js",), ("Vue.js",)),
        (("vue-js",), ("vue js",)),
        (("ironman",), ("IT 鐵人賽",)),
    ]


def test_a_name_without_slug_characters_still_gets_a_stable_segment() -> None:
    refs = urls.tag_refs(make_post(tags=("+++",)), SHANGHAI)
    assert (
        refs[0].slugs[0]
        and refs[0].slugs == urls.tag_refs(make_post(tags=("+++",)), SHANGHAI)[0].slugs
    )
    assert "/" not in refs[0].slugs[0]


def test_lists_of_starts_with_the_site() -> None:
    post = make_post(tags=("x",))
    lists = urls.lists_of(post, SHANGHAI)
    assert lists[0] == SITE
    assert [r.list_id for r in lists[1:]] == [
        "category:新媒体",
        "category:新媒体/趣头条",
        "category:新媒体/趣头条/分类",
        "tag:x",
    ]


# --- filename_case: what Hexo 7.3 builds ---------------------------------------------------

# `hexo generate` (hexo 7.3, hexo-util 3.3.0) of _posts/My-First-Post.md titled "Hello Wörld
# Post", categories [Front End, CSS Tricks], tags [IT 鐵人賽, Vue.js, Straße, mapped],
# `tag_map: {mapped: Mapped Tag}`: (filename_case, category paths, tag paths, post path with
# `permalink: :category/:title/`, post path with `permalink: :year/:post_title/`).
HEXO_FILENAME_CASE = [
    (
        0,
        ["/categories/Front-End/", "/categories/Front-End/CSS-Tricks/"],
        ["/tags/IT-鐵人賽/", "/tags/Vue-js/", "/tags/Strase/", "/tags/Mapped-Tag/"],
        "/Front-End/CSS-Tricks/My-First-Post/",
    ),
    (
        1,
        ["/categories/front-end/", "/categories/front-end/css-tricks/"],
        ["/tags/it-鐵人賽/", "/tags/vue-js/", "/tags/strase/", "/tags/mapped-tag/"],
        "/front-end/css-tricks/My-First-Post/",
    ),
    (
        2,
        ["/categories/FRONT-END/", "/categories/FRONT-END/CSS-TRICKS/"],
        ["/tags/IT-鐵人賽/", "/tags/VUE-JS/", "/tags/STRASE/", "/tags/MAPPED-TAG/"],
        "/FRONT-END/CSS-TRICKS/My-First-Post/",
    ),
]


@pytest.mark.parametrize(
    ("filename_case", "categories", "tags", "category_post_url"), HEXO_FILENAME_CASE
)
def test_filename_case_changes_category_and_tag_slugs_as_hexo_does(
    filename_case: int, categories: list[str], tags: list[str], category_post_url: str
) -> None:
    settings = replace(SHANGHAI, filename_case=filename_case, tag_map={"mapped": "Mapped Tag"})
    post = make_post(
        source_key="_posts/My-First-Post.md",
        name="My-First-Post",
        title="Hello Wörld Post",
        date=datetime(2022, 2, 5, 10, tzinfo=UTC),
        categories=(("Front End", "CSS Tricks"),),
        tags=("IT 鐵人賽", "Vue.js", "Straße", "mapped"),
    )
    assert [urls.landing_url(r) for r in urls.category_refs(post, settings)] == categories
    assert [urls.landing_url(r) for r in urls.tag_refs(post, settings)] == tags
    # the names shown stay as written: only the slugs change case
    assert [r.names[-1] for r in urls.tag_refs(post, settings)] == list(post.tags)
    by_category = replace(settings, permalink=":category/:title/")
    assert urls.post_url(post, by_category) == category_post_url
    # a post's file name (:title) and :post_title never follow filename_case
    by_title = replace(settings, permalink=":year/:post_title/")
    assert urls.post_url(post, by_title) == "/2022/hello-world-post/"


def test_filename_case_makes_names_differing_in_case_one_listing() -> None:
    post = make_post(tags=("CSS", "css", "Css"), categories=(("Blog", "CSS"), ("blog",)))
    lower = replace(SHANGHAI, filename_case=1)
    assert [r.list_id for r in urls.tag_refs(post, lower)] == ["tag:css"]
    assert [r.list_id for r in urls.category_refs(post, lower)] == [
        "category:blog",
        "category:blog/css",
    ]
    assert len(urls.tag_refs(post, SHANGHAI)) == 3


def test_filename_case_keeps_the_fallback_segment_of_a_name_without_slug_characters() -> None:
    for case in (0, 1, 2):
        refs = urls.tag_refs(make_post(tags=("+++",)), replace(SHANGHAI, filename_case=case))
        assert refs[0].slugs == urls.tag_refs(make_post(tags=("+++",)), SHANGHAI)[0].slugs


# --- index URLs -----------------------------------------------------------------------------

CATEGORY = ListRef("category", ("a", "b"), ("A", "B"))
TAG = ListRef("tag", ("x",), ("X",))


def test_landing_urls() -> None:
    assert urls.landing_url(SITE) == "/"
    assert urls.landing_url(CATEGORY) == "/categories/a/b/"
    assert urls.landing_url(TAG) == "/tags/x/"


def test_month_urls() -> None:
    assert urls.month_url(SITE, 2022, 2) == "/archives/2022/02/"
    assert urls.month_url(CATEGORY, 2022, 2) == "/categories/a/b/2022/02/"
    assert urls.month_url(TAG, 2022, 12) == "/tags/x/2022/12/"


def test_site_wide_urls() -> None:
    assert urls.year_url(2022) == "/archives/2022/"
    assert urls.archives_url() == "/archives/"
    assert urls.overview_url("category") == "/categories/"
    assert urls.overview_url("tag") == "/tags/"
    assert urls.feed_url(SITE) == "/atom.xml"
    assert urls.feed_url(CATEGORY) == "/categories/a/b/atom.xml"
    assert urls.sitemap_month_url(2022, 2) == "/sitemaps/2022-02.xml"
    assert urls.sitemap_index_url() == "/sitemap.xml"
    assert urls.not_found_url() == "/404.html"
    assert urls.robots_url() == "/robots.txt"


def test_index_urls_are_reserved_so_no_post_can_take_them() -> None:
    for path in (
        urls.month_url(CATEGORY, 2022, 2),
        urls.feed_url(SITE),
        urls.sitemap_month_url(2022, 2),
        urls.landing_url(TAG),
        urls.year_url(2022),
        urls.not_found_url(),
        urls.robots_url(),
    ):
        assert urls.is_reserved(path), path


# --- dates and encoding -----------------------------------------------------------------------


def test_encode_path_percent_encodes_cjk_and_spaces_as_utf8_keeping_unreserved() -> None:
    path = "/categories/新媒体/a b/x~y_z-1.2/"
    encoded = urls.encode_path(path)
    assert encoded == "/categories/%E6%96%B0%E5%AA%92%E4%BD%93/a%20b/x~y_z-1.2/"
    assert unquote(encoded) == path
    assert urls.encode_path("/a*b?c#d") == "/a%2Ab%3Fc%23d"


def test_href_adds_the_root_and_absolute_url_the_site() -> None:
    settings = replace(SHANGHAI, root="/blog/")
    assert urls.href("/tags/中文/", settings) == "/blog/tags/%E4%B8%AD%E6%96%87/"
    assert urls.href("/", SHANGHAI) == "/"
    assert urls.absolute_url("/a b/", settings) == "https://blog.example.com/blog/a%20b/"


# --- the one scheme check -----------------------------------------------------------------

# Node 20.20's WHATWG URL parser, ``new URL(url, "http://base.invalid/dir/").protocol``: None
# where the URL resolved against the base (relative, including protocol-relative "//").
WHATWG_SCHEMES = [
    ("https://x.example/a", "https"),
    ("HTTP://X", "http"),
    ("javascript:alert(1)", "javascript"),
    ("JaVaScRiPt:alert(1)", "javascript"),
    (" javascript:alert(1)", "javascript"),
    ("\tjava\tscript:alert(1)", "javascript"),
    ("java\nscript:alert(1)", "javascript"),
    ("\x01javascript:x", "javascript"),
    ("data:image/png;base64,AA", "data"),
    ("mailto:a@b.c", "mailto"),
    ("tel:+1", "tel"),
    ("c++:x", "c++"),
    ("a.b-c+d:x", "a.b-c+d"),
    ("//cdn.example/x.png", None),
    ("/images/a.png", None),
    ("images/a.png", None),
    ("a/b:c.png", None),
    ("?q=a:b", None),
    ("#a:b", None),
    ("1abc:x", None),
    ("a b:c", None),
    ("", None),
]


@pytest.mark.parametrize(("url", "scheme"), WHATWG_SCHEMES)
def test_url_scheme_is_the_scheme_a_browser_reads(url: str, scheme: str | None) -> None:
    assert urls.url_scheme(url) == scheme


# --- front-matter permalinks: one validation ----------------------------------------------


@pytest.mark.parametrize(
    ("permalink", "problem"),
    [
        ("%2e%2e/etc/", ". or .. segments"),
        ("a//b/", "empty segments"),
        ("java%09script:x", "control characters"),
        ("JavaScript:alert(1)", "not an absolute URL"),
        ("//evil.example/x/", "not an absolute URL"),
        ("a\\b/", "backslash"),
        ("a/?x", "? or #"),
        ("%61rchives/x/", "reserved"),
        ("index.html", "reserved"),
        ("atom.xml/", "reserved"),
        ("/", "reserved"),
    ],
)
def test_permalink_problem_names_what_keeps_a_path_off_the_site(
    permalink: str, problem: str
) -> None:
    found = urls.permalink_problem(permalink)
    assert found is not None
    assert problem in found


@pytest.mark.parametrize("permalink", ["about/", "a/index.html", "日记/第一篇/", "archive/x/"])
def test_permalink_problem_accepts_paths_on_the_site(permalink: str) -> None:
    assert urls.permalink_problem(permalink) is None


# --- excerpts shown on other pages ----------------------------------------------------------


def test_rebase_relative_links_resolves_against_the_post_and_keeps_the_rest() -> None:
    below_root = replace(SHANGHAI, root="/blog/")
    fragment = (
        '<p><img src="../images/a.png" alt=""> <a href="x.html?a=1&amp;b=2#f">x</a> '
        '<a href="#fn1">1</a> <a href="/abs/">a</a> <a href="https://e.com/">e</a> '
        '<a href="//cdn.example/x">c</a> <a href="mailto:a@b.c">m</a> <img src="圖.png"></p>'
    )
    assert urls.rebase_relative_links(fragment, "/article/文章.html", below_root) == (
        '<p><img src="/blog/images/a.png" alt=""> <a href="/blog/article/x.html?a=1&amp;b=2#f">'
        'x</a> <a href="/blog/article/%E6%96%87%E7%AB%A0.html#fn1">1</a> <a href="/abs/">a</a> '
        '<a href="https://e.com/">e</a> <a href="//cdn.example/x">c</a> '
        '<a href="mailto:a@b.c">m</a> <img src="/blog/article/圖.png"></p>'
    )
    # ".." past the top stops at the root, as a browser resolves it
    assert urls.rebase_relative_links('<a href="../../../x/">', "/a/", SHANGHAI) == (
        '<a href="/x/">'
    )
