"""The page catalogue (pages.py): every index page kind has one entry with its URL, its
pages, when it exists, how it renders and which table changes reach it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from blogpub import urls
from blogpub.events import (
    ListTotalChange,
    MembershipChange,
    MonthCountChange,
    PostChange,
    SitemapPageChange,
    TableChange,
)
from blogpub.models import SITE, ListRef, Post
from blogpub.pages import (
    CATALOGUE,
    IndexKind,
    IndexPage,
    ListingRead,
    newest_shown,
    page_exists,
    page_reads,
    pages_reached_by,
    render_page,
    site_pages,
)
from blogpub.render import MemoryListings, Renderer, labels_for, theme_labels
from blogpub.settings import Settings, load_settings

GOLDEN_CONFIG = Path(__file__).resolve().parents[2] / "tests" / "golden" / "_config.yml"
ALL_KINDS = set(get_args(IndexKind))


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(GOLDEN_CONFIG.read_bytes())


def post(
    name: str, day: int, *, categories: tuple[str, ...] = (), tags: tuple[str, ...] = ()
) -> Post:
    return Post(
        source_key=f"_posts/{name}.md",
        name=name,
        title=name.title(),
        date=datetime(2022, 2, day, 11, 0, tzinfo=UTC),
        updated=None,
        categories=(categories,) if categories else (),
        tags=tags,
        permalink=None,
        published=True,
        comments=False,
        lang=None,
        excerpt=None,
        body=f"<p>{name}</p>",
    )


@pytest.fixture(scope="module")
def listings(settings: Settings) -> MemoryListings:
    renderer = Renderer(settings)
    posts = [post("one", 3, categories=("Tech",), tags=("py",)), post("two", 4, tags=("py",))]
    listings = MemoryListings.from_posts([renderer.render_post(p) for p in posts], settings)
    listings.page_urls = ["/about/"]  # a standalone page: the pages sitemap exists
    return listings


def test_every_page_kind_has_one_catalogue_entry() -> None:
    assert set(CATALOGUE) == ALL_KINDS
    assert len(ALL_KINDS) == 13


def test_a_site_with_posts_has_a_page_of_every_kind_each_at_its_own_url(
    listings: MemoryListings,
) -> None:
    pages = site_pages(listings.months_by_list(), "rss2.xml")
    assert {page.kind for page in pages} == ALL_KINDS
    assert len({page.url for page in pages}) == len(pages)
    assert all(page.url.startswith("/") for page in pages)


def test_each_kind_renders_its_page_at_the_url_its_entry_builds(
    settings: Settings, listings: MemoryListings
) -> None:
    renderer = Renderer(settings)
    for page in site_pages(listings.months_by_list(), "rss2.xml"):
        assert page_exists(page, listings), page
        rendered = render_page(renderer, page, listings)
        assert rendered.url == page.url, page
        assert rendered.body, page


class RecordedListings:
    """MemoryListings, noting each read by its ListingRead name (and newest's limits)."""

    def __init__(self, listings: MemoryListings) -> None:
        self.listings = listings
        self.reads: set[str] = set()
        self.newest_limits: set[int] = set()

    def __getattr__(self, name: str) -> Any:
        read = getattr(self.listings, name)

        def recorded(*args: Any) -> Any:
            self.reads.add(f"{args[0]}_summaries" if name == "summaries" else name)
            if name == "newest":
                self.newest_limits.add(args[1])
            return read(*args)

        return recorded


def test_each_kind_declares_the_reads_its_render_and_existence_make(
    settings: Settings, listings: MemoryListings
) -> None:
    # TableListings.read_ahead reads a batch's first answers from these declarations: one
    # a render makes but does not declare would go out alone, after the others.
    assert set(get_args(ListingRead)) >= {"newest", "recent_months", "all_months"}
    renderer = Renderer(settings)
    seen: set[IndexKind] = set()
    for page in site_pages(listings.months_by_list(), "rss2.xml"):
        recorded = RecordedListings(listings)
        page_exists(page, recorded)
        render_page(renderer, page, recorded)
        assert recorded.reads == page_reads(page), page
        assert recorded.reads <= set(get_args(ListingRead)), page
        expected_limits = {newest_shown(page, settings)} if "newest" in recorded.reads else set()
        assert recorded.newest_limits == expected_limits, page
        seen.add(page.kind)
    assert seen == ALL_KINDS


def test_urls_follow_the_url_rules() -> None:
    category = ListRef("category", ("tech",), ("Tech",))
    assert IndexPage("landing", category).url == urls.landing_url(category)
    assert IndexPage("month", category, 2022, 2).url == urls.month_url(category, 2022, 2)
    assert IndexPage("feed", category).url == urls.feed_url(category)
    assert IndexPage("rss2", category, name="rss.xml").url == "/categories/tech/rss.xml"
    assert IndexPage("archives", category).url == urls.archives_url(category)
    assert IndexPage("year", year=2022).url == urls.year_url(2022)
    assert IndexPage("sitemap_month", year=2022, month=2).url == urls.sitemap_month_url(2022, 2)
    assert IndexPage("category_overview").url == urls.overview_url("category")
    assert IndexPage("tag_overview").url == urls.overview_url("tag")
    assert IndexPage("sitemap_index").url == urls.sitemap_index_url()
    assert IndexPage("sitemap_pages").url == urls.sitemap_pages_url() == "/sitemaps/pages.xml"
    assert IndexPage("not_found").url == urls.not_found_url()
    assert IndexPage("robots").url == urls.robots_url()


def test_pages_of_a_month_or_listing_without_posts_do_not_exist(listings: MemoryListings) -> None:
    empty_tag = ListRef("tag", ("none",), ("none",))
    for kind in ("landing", "archives", "feed"):
        assert not page_exists(IndexPage(kind, empty_tag), listings)
        assert page_exists(IndexPage(kind, SITE), listings)
    assert not page_exists(IndexPage("month", SITE, 2022, 3), listings)
    assert not page_exists(IndexPage("sitemap_month", year=2022, month=3), listings)
    assert not page_exists(IndexPage("year", year=2021), listings)
    assert page_exists(IndexPage("year", year=2022), listings)


def test_an_empty_site_still_has_its_own_pages(settings: Settings) -> None:
    empty = MemoryListings.from_posts([], settings)
    pages = site_pages(empty.months_by_list(), "rss2.xml")
    assert {page.kind for page in pages} == ALL_KINDS - {"month", "year", "sitemap_month"}
    # The pages sitemap exists only while the site has standalone pages.
    assert all(page_exists(page, empty) for page in pages if page.kind != "sitemap_pages")
    assert not page_exists(IndexPage("sitemap_pages"), empty)


def test_only_the_site_and_categories_have_feeds(listings: MemoryListings) -> None:
    feeds = {page.ref.kind for page in site_pages(listings.months_by_list()) if page.kind == "feed"}
    assert feeds == {"site", "category"}


def test_every_kind_is_reached_by_some_table_change() -> None:
    category = ListRef("category", ("tech",), ("Tech",))
    changes: list[TableChange] = [
        MembershipChange(SITE, 2022, 2),
        MonthCountChange(SITE, 2022, 2, 0, 1),
        ListTotalChange(SITE, 0, 1),
        ListTotalChange(category, 1, 2),
        ListTotalChange(ListRef("tag", ("py",), ("py",)), 1, 2),
        PostChange("_posts/a.md", "published", "published", "/a/", "/a/", "x", "y", (category,)),
        SitemapPageChange("about/index.md"),
    ]
    reached = {page.kind for change in changes for page in pages_reached_by(change, "rss2.xml")}
    assert reached == ALL_KINDS
    assert {page.kind for change in changes for page in pages_reached_by(change)} == ALL_KINDS - {
        "rss2"
    }


def test_an_rss2_feed_stands_beside_each_atom_feed_only_when_configured(
    listings: MemoryListings,
) -> None:
    default = site_pages(listings.months_by_list())
    with_rss2 = site_pages(listings.months_by_list(), "feeds/rss.xml")
    atom = sorted(page.url for page in default if page.kind == "feed")
    rss2 = sorted(page.url for page in with_rss2 if page.kind == "rss2")
    assert not any(page.kind == "rss2" for page in default)
    assert rss2 == sorted(url.replace("atom.xml", "feeds/rss.xml") for url in atom)
    assert sorted(page.url for page in with_rss2 if page.kind != "rss2") == sorted(
        page.url for page in default
    )
    membership = MembershipChange(SITE, 2022, 2)
    assert set(pages_reached_by(membership, "rss2.xml")) - set(pages_reached_by(membership)) == {
        IndexPage("rss2", SITE, name="rss2.xml")
    }


def test_the_landing_is_reached_by_every_month_count_because_it_shows_the_newest_counts() -> None:
    old_month = MonthCountChange(SITE, 1999, 1, 3, 4)
    assert IndexPage("landing") in pages_reached_by(old_month)


def test_the_theme_labels_cover_every_language_with_the_same_words() -> None:
    labels = theme_labels()
    assert set(labels) == {"en", "zh-CN", "zh-TW"}
    assert len({frozenset(words) for words in labels.values()}) == 1
    assert labels_for("zh-Hant")["home"] == "首頁"
    assert labels_for("zh-CN")["home"] == "首页"
    assert labels_for("de")["home"] == "Home"
