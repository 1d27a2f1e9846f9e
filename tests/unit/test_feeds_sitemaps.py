"""Atom feeds parse cleanly with feedparser; sitemaps are well-formed sitemap XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from blogpub import urls
from blogpub.models import SITE, Entry, ListRef, MonthCount
from blogpub.reader import read_post
from blogpub.render import ATOM, RSS, XML, Renderer
from blogpub.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "posts"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings((REPO / "tests" / "golden" / "_config.yml").read_bytes())


@pytest.fixture(scope="module")
def site(settings: Settings) -> dict[str, bytes]:
    renderer = Renderer(settings)
    rendered = [
        renderer.render_post(
            read_post(
                path.read_bytes(), "_posts/" + path.relative_to(EXAMPLES).as_posix(), settings
            )
        )
        for path in sorted(EXAMPLES.rglob("*.md"))
    ]
    return {page.url: page.body for page in renderer.site(rendered)}


def entry(day: int, *, title: str = "", content: str | None = "<p>full</p>") -> Entry:
    return Entry(
        source_key=f"_posts/{day}.md",
        title=title or f"Post {day}",
        url=f"/2022/02/{day:02d}/{day}/",
        date=datetime(2022, 2, day, 3, 0, tzinfo=UTC),
        excerpt_html="<p>short</p>",
        content_html=content,
    )


def test_every_feed_of_the_examples_parses_without_errors(site: dict[str, bytes]) -> None:
    feeds = [url for url in site if url.endswith("/atom.xml")]
    assert "/atom.xml" in feeds
    assert any(url.startswith("/categories/") for url in feeds)
    for url in feeds:
        parsed = feedparser.parse(site[url])
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"
        assert parsed.entries, url


def test_site_feed_is_newest_first_with_absolute_links(
    site: dict[str, bytes], settings: Settings
) -> None:
    parsed = feedparser.parse(site["/atom.xml"])
    published = [e.published_parsed for e in parsed.entries]
    assert published == sorted(published, reverse=True)
    assert all(e.link.startswith("https://blog.example.com/") for e in parsed.entries)
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == ["https://blog.example.com/atom.xml"]
    assert len(parsed.entries) == min(settings.feed_limit, 20)


def test_rss2_feeds_parse_with_feedparser_beside_each_atom_feed(settings: Settings) -> None:
    rss_settings = replace(settings, rss2_path="rss2.xml", feed_limit=3)
    renderer = Renderer(rss_settings)
    rendered = [
        renderer.render_post(
            read_post(
                path.read_bytes(), "_posts/" + path.relative_to(EXAMPLES).as_posix(), settings
            )
        )
        for path in sorted(EXAMPLES.rglob("*.md"))
    ]
    pages = {page.url: page for page in renderer.site(rendered)}
    atom_feeds = sorted(url for url in pages if url.endswith("/atom.xml"))
    rss_feeds = sorted(url for url in pages if url.endswith("/rss2.xml"))
    assert rss_feeds == sorted(url.replace("atom.xml", "rss2.xml") for url in atom_feeds)
    for url in rss_feeds:
        page = pages[url]
        assert page.content_type == RSS
        parsed = feedparser.parse(page.body)
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        assert parsed.version == "rss20"
        atom = feedparser.parse(pages[url.replace("rss2.xml", "atom.xml")].body)
        # The same entries, in the same order, with the same links, dates and bodies.
        assert [e.link for e in parsed.entries] == [e.link for e in atom.entries], url
        assert [e.id for e in parsed.entries] == [e.link for e in atom.entries]
        assert [e.published_parsed for e in parsed.entries] == [
            e.published_parsed for e in atom.entries
        ]
        assert [e.content[0].value for e in parsed.entries] == [
            e.content[0].value for e in atom.entries
        ]
        self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
        assert self_links == ["https://blog.example.com" + urls.encode_path(url)]
        assert parsed.feed.link == atom.feed.link
    home = pages["/"].body.decode()
    assert 'type="application/rss+xml" title="示例博客" href="/rss2.xml"' in home


def test_hostile_titles_and_html_content_round_trip(settings: Settings) -> None:
    title = 'Tips & "tricks" <b>bold</b> ]]>'
    page = Renderer(settings).feed(SITE, [entry(5, title=title, content="<p>a &amp; b</p>")])
    assert page.content_type == ATOM
    parsed = feedparser.parse(page.body)
    assert not parsed.bozo
    assert parsed.entries[0].title == title
    assert parsed.entries[0].content[0].value == "<p>a &amp; b</p>"


def test_full_content_only_when_the_settings_ask_for_it(settings: Settings) -> None:
    full = feedparser.parse(
        Renderer(replace(settings, feed_content="full")).feed(SITE, [entry(5)]).body
    )
    summary = feedparser.parse(
        Renderer(replace(settings, feed_content="summary")).feed(SITE, [entry(5)]).body
    )
    assert full.entries[0].content[0].value == "<p>full</p>"
    assert "content" not in summary.entries[0]
    assert summary.entries[0].summary == "<p>short</p>"


def test_feed_is_limited_and_updated_is_the_newest_entry(settings: Settings) -> None:
    entries = [entry(day) for day in range(20, 0, -1)]
    renderer = Renderer(replace(settings, feed_limit=5))
    parsed = feedparser.parse(renderer.feed(ListRef("category", ("a",), ("A",)), entries).body)
    assert [e.title for e in parsed.entries] == [f"Post {d}" for d in range(20, 15, -1)]
    newest = entries[0].date.astimezone(settings.tz)
    assert parsed.feed.updated == newest.isoformat()


def test_an_empty_feed_is_still_valid(settings: Settings) -> None:
    first = Renderer(settings).feed(SITE, [])
    parsed = feedparser.parse(first.body)
    assert not parsed.bozo
    assert parsed.entries == []
    assert first.body == Renderer(settings).feed(SITE, []).body


def test_sitemap_index_lists_every_month_sitemap(
    site: dict[str, bytes], settings: Settings
) -> None:
    root = ET.fromstring(site["/sitemap.xml"])
    assert root.tag == f"{SITEMAP_NS}sitemapindex"
    locs = [loc.text for loc in root.iter(f"{SITEMAP_NS}loc")]
    months = sorted(url for url in site if url.startswith("/sitemaps/"))
    assert locs == [urls.absolute_url(m, settings) for m in months]


def test_month_sitemaps_list_every_post_of_their_month(
    site: dict[str, bytes], settings: Settings
) -> None:
    all_locs: list[str] = []
    for url in (u for u in site if u.startswith("/sitemaps/")):
        root = ET.fromstring(site[url])
        assert root.tag == f"{SITEMAP_NS}urlset"
        for node in root.findall(f"{SITEMAP_NS}url"):
            loc = node.findtext(f"{SITEMAP_NS}loc")
            lastmod = node.findtext(f"{SITEMAP_NS}lastmod")
            assert loc is not None and lastmod is not None
            assert datetime.fromisoformat(lastmod).utcoffset() == timedelta(hours=8)
            assert loc.isascii()
            all_locs.append(loc)
    posts = [
        read_post(path.read_bytes(), "_posts/" + path.relative_to(EXAMPLES).as_posix(), settings)
        for path in sorted(EXAMPLES.rglob("*.md"))
    ]
    post_urls = [urls.post_url(post, settings) for post in posts if post.published]
    assert sorted(all_locs) == sorted(urls.absolute_url(u, settings) for u in post_urls)


def test_sitemaps_escape_ampersands(settings: Settings) -> None:
    page = Renderer(settings).sitemap_month(
        2022, 2, [Entry("_posts/a.md", "a", "/a&b/", datetime(2022, 2, 1, tzinfo=UTC))]
    )
    assert page.content_type == XML
    root = ET.fromstring(page.body)
    assert root.findtext(f"{SITEMAP_NS}url/{SITEMAP_NS}loc") == "https://blog.example.com/a%26b/"
    index = Renderer(settings).sitemap_index([MonthCount(2022, 2, 1)])
    assert ET.fromstring(index.body).findtext(f"{SITEMAP_NS}sitemap/{SITEMAP_NS}loc") == (
        "https://blog.example.com/sitemaps/2022-02.xml"
    )
