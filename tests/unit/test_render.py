"""The renderer: post pages, listing pages, the page set of a whole site, safety."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from blogpub import dates, urls
from blogpub.errors import UrlConflictError
from blogpub.models import SITE, Entry, ListRef, MonthCount, Post
from blogpub.pages import IndexPage, site_pages
from blogpub.reader import read_post
from blogpub.render import (
    ATOM,
    HTML,
    TEXT,
    XML,
    MemoryListings,
    Renderer,
    json_for_script,
    safe_image_url,
)
from blogpub.render import stylesheet as stylesheet_asset
from blogpub.settings import Comments, Settings, load_settings

from tests.conftest import make_post

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "posts" / "000_d87f2d6de0cb2939.md"
EXAMPLES = REPO / "examples" / "posts"
GOLDEN_CONFIG = REPO / "tests" / "golden" / "_config.yml"

# Pages every site has, posts or not.
FIXED_PAGES = {
    "/",
    "/archives/",
    "/atom.xml",
    "/sitemap.xml",
    "/categories/",
    "/tags/",
    "/404.html",
    "/robots.txt",
}


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(GOLDEN_CONFIG.read_bytes())


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, and the text of <title>."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def example_posts(settings: Settings) -> list[Post]:
    return [
        read_post(path.read_bytes(), "_posts/" + path.relative_to(EXAMPLES).as_posix(), settings)
        for path in sorted(EXAMPLES.rglob("*.md"))
    ]


# --- the seed post page ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_page(settings: Settings) -> tuple[str, Elements]:
    post = read_post(SEED.read_bytes(), "_posts/000_d87f2d6de0cb2939.md", settings)
    rendered = Renderer(settings).render_post(post)
    assert rendered.page.url == "/2022/02/05/000_d87f2d6de0cb2939/"
    assert rendered.page.content_type == HTML
    html = rendered.page.body.decode("utf-8")
    return html, Elements(html)


def test_seed_page_has_title_date_and_author(seed_page: tuple[str, Elements]) -> None:
    html, elements = seed_page
    assert elements.title.startswith("李文艺主持召开疫情防控视频调度会议")
    assert '<h1 class="post-title">李文艺主持召开疫情防控视频调度会议</h1>' in html
    times = elements.all("time")
    assert times[0]["datetime"] == "2022-02-05T19:13:23+08:00"
    assert ">2022-02-05</time>" in html
    assert '<span class="author">趣头条</span>' in html


def test_seed_breadcrumb_links_every_category_level(
    seed_page: tuple[str, Elements], settings: Settings
) -> None:
    html, _ = seed_page
    crumb = re.search(r'<nav class="breadcrumb".*?</nav>', html, re.S)
    assert crumb is not None
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', crumb.group(0))
    expected_paths = [
        "/categories/新媒体/",
        "/categories/新媒体/趣头条/",
        "/categories/新媒体/趣头条/分类/",
    ]
    assert links == [
        (urls.href(path, settings), name)
        for path, name in zip(expected_paths, ["新媒体", "趣头条", "分类"], strict=True)
    ]


def test_seed_cover_and_body_images_hide_the_referrer(seed_page: tuple[str, Elements]) -> None:
    _, elements = seed_page
    images = elements.all("img")
    assert len(images) == 7  # the cover and the six images of the body
    assert all(img.get("referrerpolicy") == "no-referrer" for img in images)
    cover = images[0]
    assert cover["loading"] == "lazy"
    assert cover["src"] == (
        "https://cors.zfour.workers.dev/?http://static.1sapp.com/qupost/img/2022/02/05/"
        "3b159a84d94eea1cd50a546f730cd651.jpeg"
    )


def test_seed_head_has_canonical_open_graph_and_json_ld(
    seed_page: tuple[str, Elements], settings: Settings
) -> None:
    html, elements = seed_page
    canonical = [a for a in elements.all("link") if a.get("rel") == "canonical"]
    assert canonical[0]["href"] == "https://blog.example.com/2022/02/05/000_d87f2d6de0cb2939/"
    og = {a["property"]: a["content"] or "" for a in elements.all("meta") if a.get("property")}
    assert og["og:title"] == "李文艺主持召开疫情防控视频调度会议"
    assert og["og:url"] == canonical[0]["href"]
    assert og["og:image"].endswith("3b159a84d94eea1cd50a546f730cd651.jpeg")
    assert elements.tags[0] == ("html", {"lang": settings.language})
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert script is not None
    data = json.loads(script.group(1))
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == "李文艺主持召开疫情防控视频调度会议"
    assert data["datePublished"] == "2022-02-05T19:13:23+08:00"
    assert data["author"]["name"] == "趣头条"


def test_seed_has_no_comments_section_because_comments_are_off(
    seed_page: tuple[str, Elements],
) -> None:
    assert 'id="comments"' not in seed_page[0]


def test_comments_section_appears_only_when_a_provider_is_configured(settings: Settings) -> None:
    post = make_post(comments=True)
    without = Renderer(settings).render_post(post).page.body.decode()
    giscus = Comments("giscus", {"repo": "me/blog", "repo_id": "R_1", "category": "Q&A"})
    with_giscus = Renderer(replace(settings, comments=giscus)).render_post(post).page.body.decode()
    off = Renderer(replace(settings, comments=giscus)).render_post(make_post(comments=False))

    assert 'id="comments"' not in without and "<script src" not in without
    assert 'id="comments"' in with_giscus
    assert (
        '<script src="https://giscus.app/client.js" data-repo="me/blog" data-repo-id="R_1" '
        'data-category="Q&amp;A" data-category-id="" data-mapping="pathname"'
    ) in with_giscus
    assert 'id="comments"' not in off.page.body.decode()


# --- safety ------------------------------------------------------------------------------------


def test_template_syntax_in_a_post_stays_literal(settings: Settings) -> None:
    body = "Say {{ x }} and {{ site.title }} and {% if true %}yes{% endif %} {# c #}"
    html = Renderer(settings).render_post(make_post(body=body)).page.body.decode()
    assert "{{ x }}" in html
    assert "{{ site.title }}" in html
    assert "<code>{% if true %}</code>yes<code>{% endif %}</code>" in html  # unknown: as code
    assert "{# c #}" not in html  # a Nunjucks comment, dropped as Hexo drops it


def test_hostile_title_and_author_are_escaped(settings: Settings) -> None:
    hostile = '<script>alert("t")</script>'
    post = make_post(title=hostile, extra={"author": "<b onmouseover=x>me</b>"})
    html = Renderer(settings).render_post(post).page.body.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in html
    assert "<b onmouseover" not in html


def test_json_ld_cannot_close_its_script_element(settings: Settings) -> None:
    post = make_post(title="</script><!-- <script>alert(1)</script>")
    html = Renderer(settings).render_post(post).page.body.decode()
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert script is not None
    assert "<" not in script.group(1)
    assert json.loads(script.group(1))["headline"] == post.title
    assert json.loads(json_for_script({"a": "&<>"})) == {"a": "&<>"}


def test_cover_urls_with_other_schemes_are_dropped(settings: Settings) -> None:
    assert safe_image_url("javascript:alert(1)", settings, "/") is None
    assert safe_image_url("JaVaScRiPt:alert(1)", settings, "/") is None
    assert safe_image_url("data:image/png;base64,AAAA", settings, "/") is None
    blog = replace(settings, root="/blog/")
    assert safe_image_url("/images/a.png", blog, "/") == "/blog/images/a.png"
    assert safe_image_url("https://x/y.png", settings, "/") == "https://x/y.png"
    html = (
        Renderer(settings)
        .render_post(make_post(extra={"headimg": "javascript:alert(1)"}))
        .page.body.decode()
    )
    assert "javascript:" not in html


def test_post_lang_overrides_the_site_language(settings: Settings) -> None:
    html = Renderer(settings).render_post(make_post(lang="en")).page.body.decode()
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')


# --- listings ----------------------------------------------------------------------------------

CATEGORY = ListRef("category", ("a", "b"), ("甲", "乙"))


def entries(count: int) -> list[Entry]:
    return [
        Entry(
            source_key=f"_posts/{day:02d}.md",
            title=f"Post {day:02d}",
            url=f"/2022/03/{day:02d}/{day:02d}/",
            date=datetime(2022, 3, day, 4, 0, tzinfo=UTC),
        )
        for day in range(count, 0, -1)
    ]


def test_landing_shows_the_newest_per_page_entries_and_every_month(settings: Settings) -> None:
    renderer = Renderer(replace(settings, per_page=3))
    months = [MonthCount(2022, 3, 12), MonthCount(2021, 12, 1)]
    page = renderer.landing(CATEGORY, entries(12), months)
    html = page.body.decode()
    assert page.url == "/categories/a/b/"
    assert re.findall(r"Post (\d\d)", html) == ["12", "11", "10"]
    assert urls.href("/categories/a/b/2022/03/", settings) in html
    assert urls.href("/categories/a/b/2021/12/", settings) in html
    assert "(12)" in html


def test_month_archive_lists_every_entry(settings: Settings) -> None:
    page = Renderer(replace(settings, per_page=3)).month_archive(SITE, 2022, 3, entries(12))
    assert page.url == "/archives/2022/03/"
    assert len(re.findall(r'class="entry-title"', page.body.decode())) == 12


def test_empty_listings_still_render(settings: Settings) -> None:
    renderer = Renderer(settings)
    landing = renderer.landing(CATEGORY, [], []).body.decode()
    assert '<li class="entry">' not in landing
    assert '<p class="empty">' in landing
    assert renderer.month_archive(CATEGORY, 2022, 1, []).url == "/categories/a/b/2022/01/"


def test_category_overview_is_a_tree_with_counts(settings: Settings) -> None:
    listings = MemoryListings.from_posts(
        [Renderer(settings).render_post(make_post(categories=(("甲", "乙"),)))], settings
    )
    html = Renderer(settings).overview("category", listings.summaries("category")).body.decode()
    assert re.findall(
        r'<li class="depth-(\d)"><a href="[^"]+">([^<]+)</a> <span class="count">'
        r"\((\d+)\)",
        html,
    ) == [("0", "甲", "1"), ("1", "乙", "1")]


def test_not_found_and_robots(settings: Settings) -> None:
    renderer = Renderer(settings)
    assert renderer.not_found().url == "/404.html"
    robots = renderer.robots()
    assert robots.content_type == TEXT
    assert "Sitemap: https://blog.example.com/sitemap.xml" in robots.body.decode()


# --- the whole site ------------------------------------------------------------------------------


def test_an_empty_site_has_the_fixed_pages(settings: Settings) -> None:
    pages = Renderer(settings).site([])
    assert [p.url for p in pages] == sorted(FIXED_PAGES | {stylesheet_asset().url})


@pytest.fixture(scope="module")
def example_site(settings: Settings) -> dict[str, bytes]:
    renderer = Renderer(settings)
    rendered = [renderer.render_post(post) for post in example_posts(settings)]
    return {page.url: page.body for page in renderer.site(rendered)}


def test_site_page_set_follows_the_listings(settings: Settings) -> None:
    posts = example_posts(settings)
    renderer = Renderer(settings)
    rendered = [renderer.render_post(p) for p in posts]
    pages = renderer.site(rendered)
    got = {page.url for page in pages}
    published = [p for p in posts if p.published]
    expected = {urls.post_url(p, settings) for p in published}
    expected |= FIXED_PAGES
    for post in published:
        local = dates.local_date(post.date, settings.tz)
        expected |= {
            urls.year_url(local.year),
            urls.sitemap_month_url(local.year, local.month),
            urls.month_url(SITE, local.year, local.month),
        }
        for ref in urls.lists_of(post, settings)[1:]:
            expected |= {
                urls.landing_url(ref),
                urls.archives_url(ref),
                urls.month_url(ref, local.year, local.month),
            }
            if ref.kind == "category":
                expected.add(urls.feed_url(ref))
    expected.add(stylesheet_asset().url)  # the theme's asset
    assert got == expected
    assert len(got) == len(pages)
    draft = next(p for p in posts if not p.published)
    assert urls.post_url(draft, settings) not in got
    for ref in urls.lists_of(draft, settings)[1:]:
        if not any(ref in urls.lists_of(p, settings) for p in published):
            assert urls.landing_url(ref) not in got
    kinds = {page.url: page.content_type for page in pages}
    assert kinds["/atom.xml"] == ATOM
    assert kinds["/sitemap.xml"] == XML
    assert kinds["/"] == HTML


def test_site_pages_lists_other_listings_only_with_posts() -> None:
    tag = ListRef("tag", ("t",), ("t",))
    pages = site_pages({SITE: [], tag: []})
    assert IndexPage("landing", tag) not in pages
    assert IndexPage("landing", SITE) in pages
    with_post = site_pages({SITE: [(2022, 2)], tag: [(2022, 2)]})
    assert IndexPage("month", tag, 2022, 2) in with_post
    assert IndexPage("feed", tag) not in with_post


def test_listings_are_newest_first_with_the_source_key_as_tiebreak(
    example_site: dict[str, bytes], settings: Settings
) -> None:
    html = example_site["/archives/2023/03/"].decode()
    titles = re.findall(r'class="entry-title"><a href="[^"]+">([^<]+)</a>', html)
    # Two posts share 2023-03-12 22:10:00; the greater source key comes first.
    assert titles[:2] == [
        "几条常用的 Shell 单行命令",
        "Tips &amp; Tricks: &#34;C++&#34; 模板里的 &lt;typename&gt; 与 class",
    ]


def test_a_post_late_on_the_31st_utc_is_in_the_next_month_in_shanghai(
    example_site: dict[str, bytes],
) -> None:
    assert "社区食堂试运营首周" in example_site["/archives/2022/02/"].decode()
    assert "社区食堂试运营首周" not in example_site["/archives/2022/01/"].decode()


def test_two_posts_at_one_url_conflict(settings: Settings) -> None:
    renderer = Renderer(settings)
    first = renderer.render_post(make_post(source_key="_posts/a.md", permalink="same/"))
    second = renderer.render_post(make_post(source_key="_posts/b.md", permalink="same/"))
    with pytest.raises(UrlConflictError, match=r"_posts/a\.md"):
        renderer.site([first, second])


def test_rendering_is_deterministic(settings: Settings) -> None:
    def render() -> list[tuple[str, bytes]]:
        renderer = Renderer(settings)
        rendered = [renderer.render_post(p) for p in reversed(example_posts(settings))]
        return [(page.url, page.body) for page in renderer.site(rendered)]

    assert render() == render()


def test_every_html_page_links_the_theme_stylesheet_and_nothing_else(
    example_site: dict[str, bytes],
) -> None:
    """The Content-Security-Policy allows no script and styles from the site only: one
    content-hashed stylesheet, no inline <style> or style attribute in the theme."""
    stylesheet = stylesheet_asset()
    assert stylesheet.url in example_site
    assert example_site[stylesheet.url] == stylesheet.body
    for url, body in example_site.items():
        if not url.endswith("/") and not url.endswith(".html"):
            continue
        elements = Elements(body.decode())
        sheets = [
            attrs.get("href") for attrs in elements.all("link") if attrs.get("rel") == "stylesheet"
        ]
        assert sheets == [stylesheet.url], url
        for attrs in elements.all("script"):
            assert "src" not in attrs and attrs.get("type") == "application/ld+json", url
        assert "<style>" not in body.decode(), url


def og_image_and_json_ld_image(html: str) -> tuple[str, str]:
    og = re.search(r'<meta property="og:image" content="([^"]*)">', html)
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert og is not None and script is not None
    return og.group(1), json.loads(script.group(1))["image"]


@pytest.mark.parametrize(
    ("cover", "root", "src", "expected"),
    [
        # Relative to the post's URL, as Hexo's open_graph resolves og:image.
        ("images/a.png", "/", "/2022/02/05/p/images/a.png", "https://blog.example{}"),
        ("../a.png", "/", "/2022/02/05/a.png", "https://blog.example{}"),
        ("./a.png", "/blog/", "/blog/2022/02/05/p/a.png", "https://blog.example{}"),
        ("../../../../../../a.png", "/", "/a.png", "https://blog.example{}"),
        # Below the root, as Hexo's url_for puts a site path.
        ("/images/a.png", "/blog/", "/blog/images/a.png", "https://blog.example{}"),
        ("https://cdn.example/a.png", "/blog/", "https://cdn.example/a.png", "{}"),
        ("//cdn.example/a.png", "/", "//cdn.example/a.png", "https:{}"),
    ],
)
def test_a_relative_cover_gives_an_absolute_og_image_and_json_ld_image(
    settings: Settings, cover: str, root: str, src: str, expected: str
) -> None:
    site = replace(
        settings, url="https://blog.example", root=root, permalink=":year/:month/:day/p/"
    )
    post = make_post(date=datetime(2022, 2, 5, 12, tzinfo=UTC), extra={"cover": cover})
    rendered = Renderer(site).render_post(post)
    html = rendered.page.body.decode()

    absolute = expected.format(src)
    assert og_image_and_json_ld_image(html) == (absolute, absolute)
    # The post page and a listing show the same image.
    assert f'src="{src}"' in html
    landing = Renderer(site).landing(SITE, [rendered.entry()], []).body.decode()
    assert f'src="{src}"' in landing


def test_a_url_with_the_roots_subdirectory_counts_it_once_in_every_absolute_url(
    settings: Settings,
) -> None:
    site = replace(settings, url="https://blog.example/blog", root="/blog/")
    post = make_post(date=datetime(2022, 2, 5, 12, tzinfo=UTC))
    html = Renderer(site).render_post(post).page.body.decode()
    robots = Renderer(site).robots().body.decode()

    assert 'rel="canonical" href="https://blog.example/blog/2022/' in html
    assert 'property="og:url" content="https://blog.example/blog/2022/' in html
    assert "Sitemap: https://blog.example/blog/sitemap.xml" in robots
    assert "/blog/blog/" not in html + robots


def test_an_excerpt_s_relative_images_and_links_work_on_listings(settings: Settings) -> None:
    text = (
        "---\ntitle: Relative\ndate: 2024-03-01 09:00:00\n---\n"
        "![](../images/cover.png) [next](other.html)\n\n<!-- more -->\n\n![](../images/body.png)\n"
    )
    post = read_post(
        text.encode(), "_posts/relative.md", replace(settings, permalink="a/:title.html")
    )
    rendered = Renderer(replace(settings, permalink="a/:title.html")).render_post(post)
    # the post page keeps the links as written; its excerpt names what they name from it
    assert 'src="../images/cover.png"' in rendered.body_html
    assert 'src="/images/cover.png"' in rendered.excerpt_html
    assert 'href="/a/other.html"' in rendered.excerpt_html
    assert "../" not in rendered.excerpt_html
