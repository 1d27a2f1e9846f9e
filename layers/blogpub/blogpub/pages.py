"""The page catalogue: every kind of index page declared once.

Each entry says where its pages live, which pages of it a site has, when one exists, what
it reads to render, and which table changes reach it. URL building (``IndexPage.url``),
rendering (``render_page``), existence (``page_exists``), a site's page list
(``site_pages``) and the index builder's "which pages did this change touch"
(``pages_reached_by``) are lookups here, so adding a page kind is one entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from blogpub import urls
from blogpub.events import (
    ListTotalChange,
    MembershipChange,
    MonthCountChange,
    PostChange,
    SitemapPageChange,
    TableChange,
)
from blogpub.models import SITE, ListRef, Page

if TYPE_CHECKING:
    from blogpub.render import Listings, Renderer
    from blogpub.settings import Settings

IndexKind = Literal[
    "landing",
    "month",
    "feed",
    "rss2",
    "year",
    "archives",
    "category_overview",
    "tag_overview",
    "sitemap_index",
    "sitemap_month",
    "sitemap_pages",
    "not_found",
    "robots",
]

# A landing page shows this many of its listing's newest months with their counts, then
# links its archive index: a listing's every month is on one page that changes only when
# a month opens or closes.
LANDING_MONTHS = 12

Months = Sequence[tuple[int, int]]

# What a page reads of the listings to render and to tell whether it exists, each read by
# the render.Listings method it is (the summaries by their kind). TableListings.read_ahead
# makes a batch's reads that need no other answer together, from these declarations.
ListingRead = Literal[
    "newest",
    "recent_months",
    "all_months",
    "in_month",
    "months_in_year",
    "category_summaries",
    "tag_summaries",
    "sitemap_pages",
]

# How long shared caches keep a page (docs/design.md invariant 3): "listing" pages change
# with every post, so they expire after IndexPageTtlSeconds and are never invalidated;
# "long" objects (post pages, assets, robots.txt) are kept until an invalidation.
CacheClass = Literal["listing", "long"]


@dataclass(frozen=True)
class IndexPage:
    """One index page of the site, named by what it shows; its URL is its kind's rule."""

    kind: IndexKind
    ref: ListRef = SITE
    year: int = 0
    month: int = 0
    name: str = ""  # an RSS 2.0 feed's configured path (Settings.rss2_path)

    @property
    def url(self) -> str:
        return CATALOGUE[self.kind].url(self)


# The change counter a page is rendered from (docs/design.md, "Index work"): a listing's
# (month None), one month's of a listing, or (ref None) the standalone pages' set. Every
# table change a page shows moves it.
Counter = tuple[ListRef | None, tuple[int, int] | None]
# The standalone pages' set (what /sitemaps/pages.xml lists) keeps a counter of its own.
PAGE_SET: Counter = (None, None)


def _listing_counter(page: IndexPage) -> Counter:
    return (page.ref, None)


def _month_counter(page: IndexPage) -> Counter:
    return (page.ref, (page.year, page.month))


def _page_set_counter(page: IndexPage) -> Counter:
    return PAGE_SET


def _site_counter(page: IndexPage) -> Counter:
    """Pages that show every listing or every month of the site: the site's counter moves
    with every post the site gains, loses or changes, and whenever any listing's total
    moves (table._CountDeltas)."""
    return (SITE, None)


@dataclass(frozen=True)
class PageKind:
    """One kind of index page: the catalogue entry every page rule is looked up in."""

    url: Callable[[IndexPage], str]
    # The pages of this kind a listing has, given the (year, month)s holding its posts; the
    # site's listing is asked even without posts.
    pages: Callable[[ListRef, Months], list[IndexPage]]
    exists: Callable[[IndexPage, Listings], bool]
    render: Callable[[Renderer, IndexPage, Listings], Page]
    reached_by: Callable[[TableChange], list[IndexPage]]
    reads_bodies: bool = False  # full-content feeds read the posts' stored bodies too
    reads: frozenset[ListingRead] = frozenset()  # what ``render`` and ``exists`` read
    # How many of its listing's newest entries a page shows (it reads "newest").
    newest_shown: Callable[[Settings], int] | None = None
    cache: CacheClass = "listing"
    counter: Callable[[IndexPage], Counter] = _listing_counter


def has_feed(ref: ListRef) -> bool:
    """The site and every category have an Atom feed; tags do not (as hexo-generator-feed)."""
    return ref.kind in ("site", "category")


def page_reads(page: IndexPage) -> frozenset[ListingRead]:
    """What rendering ``page`` and asking whether it exists read of the listings."""
    kind = CATALOGUE[page.kind]
    if kind.exists is _listing_has_posts and page.ref != SITE:
        return kind.reads | {"recent_months"}
    return kind.reads


def newest_shown(page: IndexPage, settings: Settings) -> int:
    """How many of its listing's newest entries ``page`` shows (0: it reads none)."""
    shown = CATALOGUE[page.kind].newest_shown
    return 0 if shown is None else shown(settings)


def _per_page(settings: Settings) -> int:
    return settings.per_page


def _feed_limit(settings: Settings) -> int:
    return settings.feed_limit


def _always(page: IndexPage, listings: Listings) -> bool:
    return True


def _listing_has_posts(page: IndexPage, listings: Listings) -> bool:
    """The site's own pages exist always, any other listing's while it has posts."""
    return page.ref == SITE or bool(listings.recent_months(page.ref, LANDING_MONTHS))


def _site_only(kind: IndexKind) -> Callable[[ListRef, Months], list[IndexPage]]:
    """A page that exists once per site, listed with the site's listing."""
    return lambda ref, months: [IndexPage(kind)] if ref == SITE else []


def _site_appears_or_rebuilt(change: TableChange) -> bool:
    """The site's total opened, closed or was touched by a rebuild: the pages every site
    has (overviews, archive index, sitemap index, 404, robots) are written again."""
    return (
        isinstance(change, ListTotalChange)
        and change.ref == SITE
        and (change.rebuilt or change.opened_or_closed)
    )


def _reaching_site_pages(kind: IndexKind) -> Callable[[TableChange], list[IndexPage]]:
    return lambda change: [IndexPage(kind)] if _site_appears_or_rebuilt(change) else []


# -- landing: newest entries, newest months with counts, the listing's total ---------------
def _landing_pages(ref: ListRef, months: Months) -> list[IndexPage]:
    return [IndexPage("landing", ref)]


def _render_landing(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    entries = listings.newest(page.ref, newest_shown(page, renderer.settings))
    months = listings.recent_months(page.ref, LANDING_MONTHS)
    return renderer.landing(page.ref, entries, months)


def _landing_reached_by(change: TableChange) -> list[IndexPage]:
    # Any month count reaches it: Renderer.landing shows the newest LANDING_MONTHS months'
    # counts, and a change does not say whether its month is among them.
    if isinstance(change, MembershipChange | MonthCountChange | ListTotalChange):
        return [IndexPage("landing", change.ref)]
    if isinstance(change, PostChange) and change.moved_month:
        return [IndexPage("landing", ref) for ref in change.lists]
    return []


# -- month archive: every entry of one month of a listing ----------------------------------
def _month_pages(ref: ListRef, months: Months) -> list[IndexPage]:
    return [IndexPage("month", ref, year, month) for year, month in months]


def _month_exists(page: IndexPage, listings: Listings) -> bool:
    return bool(listings.in_month(page.ref, page.year, page.month))


def _render_month(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    entries = listings.in_month(page.ref, page.year, page.month)
    return renderer.month_archive(page.ref, page.year, page.month, entries)


def _month_reached_by(change: TableChange) -> list[IndexPage]:
    if isinstance(change, MembershipChange) or (
        isinstance(change, MonthCountChange) and change.rebuilt
    ):
        return [IndexPage("month", change.ref, change.year, change.month)]
    return []


# -- feed: newest entries with their bodies -------------------------------------------------
def _feed_pages(ref: ListRef, months: Months) -> list[IndexPage]:
    return [IndexPage("feed", ref)] if has_feed(ref) else []


def _render_feed(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    return renderer.feed(page.ref, listings.newest(page.ref, newest_shown(page, renderer.settings)))


def _feed_reached_by(change: TableChange) -> list[IndexPage]:
    refs: Iterable[ListRef] = ()
    if isinstance(change, MembershipChange) or (
        isinstance(change, MonthCountChange | ListTotalChange) and change.rebuilt
    ):
        refs = [change.ref]
    elif (
        isinstance(change, PostChange)
        and change.is_published
        and (change.old_page_hash != change.new_page_hash or change.moved_month)
    ):
        # Feeds carry whole bodies, which memberships do not: a published post's new page
        # reaches the feeds it is listed in (unchanged bytes are not written).
        refs = change.lists
    return [IndexPage("feed", ref) for ref in refs if has_feed(ref)]


# -- RSS 2.0 feed: the Atom feed's entries, where `feed.type` asks for rss2 ---------------
# Its path is a setting, so its pages are not listed by the entry itself: with_rss2 adds one
# beside each Atom feed page when configured, and a site without rss2 has none to write.
def _no_pages(*_: object) -> list[IndexPage]:
    return []


def _render_rss2(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    entries = listings.newest(page.ref, newest_shown(page, renderer.settings))
    return renderer.rss2(page.ref, page.name, entries)


def with_rss2(pages: Iterable[IndexPage], rss2_path: str | None) -> list[IndexPage]:
    """``pages`` and, when an RSS 2.0 path is configured, an rss2 page beside each Atom feed:
    same listing, same entries, so the same changes reach it."""
    listed = list(pages)
    if rss2_path is None:
        return listed
    return listed + [
        IndexPage("rss2", page.ref, name=rss2_path) for page in listed if page.kind == "feed"
    ]


# -- year archive: the site's months of one year with their counts -------------------------
def _year_pages(ref: ListRef, months: Months) -> list[IndexPage]:
    if ref != SITE:
        return []
    return [IndexPage("year", year=year) for year in sorted({year for year, _ in months})]


def _year_exists(page: IndexPage, listings: Listings) -> bool:
    return bool(listings.months_in_year(SITE, page.year))


def _render_year(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    return renderer.year_archive(page.year, listings.months_in_year(SITE, page.year))


def _year_reached_by(change: TableChange) -> list[IndexPage]:
    if isinstance(change, MembershipChange | MonthCountChange) and change.ref == SITE:
        return [IndexPage("year", year=change.year)]
    if isinstance(change, PostChange) and change.moved_month:
        years = {month[0] for month in (change.old_month, change.new_month) if month}
        return [IndexPage("year", year=year) for year in sorted(years)]
    return []


# -- archive index: every month of a listing, without counts -------------------------------
def _archives_pages(ref: ListRef, months: Months) -> list[IndexPage]:
    return [IndexPage("archives", ref)]


def _render_archives(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    return renderer.archives_index(page.ref, listings.all_months(page.ref))


def _archives_reached_by(change: TableChange) -> list[IndexPage]:
    # Only a month opening or closing changes the list of months; counts are not shown.
    if isinstance(change, MonthCountChange) and (change.opened_or_closed or change.rebuilt):
        return [IndexPage("archives", change.ref)]
    if isinstance(change, ListTotalChange) and (change.rebuilt or _site_appears_or_rebuilt(change)):
        return [IndexPage("archives", change.ref)]
    if isinstance(change, PostChange) and change.moved_month:  # a month may open or close
        return [IndexPage("archives", ref) for ref in change.lists]
    return []


# -- overviews: every category (a tree) or tag with its count ------------------------------
def _render_category_overview(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    return renderer.overview("category", listings.summaries("category"))


def _render_tag_overview(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    return renderer.overview("tag", listings.summaries("tag"))


def _overview_reached_by(
    kind: Literal["category", "tag"],
) -> Callable[[TableChange], list[IndexPage]]:
    page_kind: IndexKind = "category_overview" if kind == "category" else "tag_overview"

    def reached_by(change: TableChange) -> list[IndexPage]:
        if isinstance(change, ListTotalChange) and (
            change.ref.kind == kind or _site_appears_or_rebuilt(change)
        ):
            return [IndexPage(page_kind)]
        return []

    return reached_by


# -- sitemaps: one per month of the site, and their index ----------------------------------
def _render_sitemap_index(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    has_pages = bool(listings.sitemap_pages())
    return renderer.sitemap_index(listings.all_months(SITE), with_pages=has_pages)


def _sitemap_index_reached_by(change: TableChange) -> list[IndexPage]:
    if isinstance(change, SitemapPageChange):  # the pages sitemap may appear or go
        return [IndexPage("sitemap_index")]
    opened_or_touched = (
        isinstance(change, MonthCountChange)
        and change.ref == SITE
        and (change.opened_or_closed or change.rebuilt)
    )
    moved = isinstance(change, PostChange) and change.moved_month
    if opened_or_touched or moved or _site_appears_or_rebuilt(change):
        return [IndexPage("sitemap_index")]
    return []


def _sitemap_month_pages(ref: ListRef, months: Months) -> list[IndexPage]:
    if ref != SITE:
        return []
    return [IndexPage("sitemap_month", year=y, month=m) for y, m in sorted(set(months))]


def _sitemap_month_exists(page: IndexPage, listings: Listings) -> bool:
    return bool(listings.in_month(SITE, page.year, page.month))


def _render_sitemap_month(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    entries = listings.in_month(SITE, page.year, page.month)
    return renderer.sitemap_month(page.year, page.month, entries)


def _sitemap_month_reached_by(change: TableChange) -> list[IndexPage]:
    if not isinstance(change, MembershipChange | MonthCountChange) or change.ref != SITE:
        return []
    if isinstance(change, MembershipChange) or change.rebuilt:
        return [IndexPage("sitemap_month", year=change.year, month=change.month)]
    return []


def _sitemap_pages_exist(page: IndexPage, listings: Listings) -> bool:
    return bool(listings.sitemap_pages())


def _render_sitemap_pages(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    return renderer.sitemap_pages(listings.sitemap_pages())


def _sitemap_pages_reached_by(change: TableChange) -> list[IndexPage]:
    """Only a page's own item moves it; posts never do (a rebuild re-renders it too)."""
    rebuilt = isinstance(change, ListTotalChange) and change.ref == SITE and change.rebuilt
    if isinstance(change, SitemapPageChange) or rebuilt:
        return [IndexPage("sitemap_pages")]
    return []


CATALOGUE: Mapping[IndexKind, PageKind] = {
    "landing": PageKind(
        url=lambda page: urls.landing_url(page.ref),
        pages=_landing_pages,
        exists=_listing_has_posts,
        render=_render_landing,
        reached_by=_landing_reached_by,
        reads=frozenset({"newest", "recent_months"}),
        newest_shown=_per_page,
    ),
    "archives": PageKind(
        url=lambda page: urls.archives_url(page.ref),
        pages=_archives_pages,
        exists=_listing_has_posts,
        render=_render_archives,
        reached_by=_archives_reached_by,
        reads=frozenset({"all_months"}),
    ),
    "month": PageKind(
        url=lambda page: urls.month_url(page.ref, page.year, page.month),
        pages=_month_pages,
        exists=_month_exists,
        render=_render_month,
        reached_by=_month_reached_by,
        reads=frozenset({"in_month"}),
        counter=_month_counter,
    ),
    "feed": PageKind(
        url=lambda page: urls.feed_url(page.ref),
        pages=_feed_pages,
        exists=_listing_has_posts,
        render=_render_feed,
        reached_by=_feed_reached_by,
        reads=frozenset({"newest"}),
        newest_shown=_feed_limit,
        reads_bodies=True,
    ),
    "rss2": PageKind(
        url=lambda page: urls.feed_url(page.ref, page.name),
        pages=_no_pages,
        exists=_listing_has_posts,
        render=_render_rss2,
        reached_by=_no_pages,
        reads=frozenset({"newest"}),
        newest_shown=_feed_limit,
        reads_bodies=True,
    ),
    "year": PageKind(
        url=lambda page: urls.year_url(page.year),
        pages=_year_pages,
        exists=_year_exists,
        render=_render_year,
        reached_by=_year_reached_by,
        reads=frozenset({"months_in_year"}),
        counter=_site_counter,
    ),
    "category_overview": PageKind(
        url=lambda page: urls.overview_url("category"),
        pages=_site_only("category_overview"),
        exists=_always,
        render=_render_category_overview,
        reached_by=_overview_reached_by("category"),
        reads=frozenset({"category_summaries"}),
        counter=_site_counter,
    ),
    "tag_overview": PageKind(
        url=lambda page: urls.overview_url("tag"),
        pages=_site_only("tag_overview"),
        exists=_always,
        render=_render_tag_overview,
        reached_by=_overview_reached_by("tag"),
        reads=frozenset({"tag_summaries"}),
        counter=_site_counter,
    ),
    "sitemap_index": PageKind(
        url=lambda page: urls.sitemap_index_url(),
        pages=_site_only("sitemap_index"),
        exists=_always,
        render=_render_sitemap_index,
        reached_by=_sitemap_index_reached_by,
        reads=frozenset({"all_months", "sitemap_pages"}),
        counter=_site_counter,
    ),
    "sitemap_month": PageKind(
        url=lambda page: urls.sitemap_month_url(page.year, page.month),
        pages=_sitemap_month_pages,
        exists=_sitemap_month_exists,
        render=_render_sitemap_month,
        reached_by=_sitemap_month_reached_by,
        reads=frozenset({"in_month"}),
        counter=_month_counter,  # the site's month
    ),
    "sitemap_pages": PageKind(
        url=lambda page: urls.sitemap_pages_url(),
        pages=_site_only("sitemap_pages"),
        exists=_sitemap_pages_exist,
        render=_render_sitemap_pages,
        reached_by=_sitemap_pages_reached_by,
        reads=frozenset({"sitemap_pages"}),
        counter=_page_set_counter,
    ),
    "not_found": PageKind(
        url=lambda page: urls.not_found_url(),
        pages=_site_only("not_found"),
        exists=_always,
        render=lambda renderer, page, listings: renderer.not_found(),
        reached_by=_reaching_site_pages("not_found"),
        counter=_site_counter,
    ),
    "robots": PageKind(
        url=lambda page: urls.robots_url(),
        pages=_site_only("robots"),
        exists=_always,
        render=lambda renderer, page, listings: renderer.robots(),
        reached_by=_reaching_site_pages("robots"),
        cache="long",  # lists no post: it changes only with the site's URL
        counter=_site_counter,
    ),
}


def page_exists(page: IndexPage, listings: Listings) -> bool:
    """Whether an index page belongs on the site now."""
    return CATALOGUE[page.kind].exists(page, listings)


def render_page(renderer: Renderer, page: IndexPage, listings: Listings) -> Page:
    """Render one index page from its listings: the one dispatch both a full render and
    the pipeline use."""
    return CATALOGUE[page.kind].render(renderer, page, listings)


def site_pages(
    months_by_list: Mapping[ListRef, Iterable[tuple[int, int]]], rss2_path: str | None = None
) -> list[IndexPage]:
    """Every index page of a site, given the (year, month)s holding posts of each listing
    (and the RSS 2.0 feeds when ``rss2_path`` is set).

    The site's own pages exist even with no posts; any other listing exists only while it
    has a post. The pipeline answers "which pages exist" with the same entries.
    """
    listings: list[tuple[ListRef, list[tuple[int, int]]]] = [
        (SITE, list(months_by_list.get(SITE, ())))
    ]
    for ref, months in months_by_list.items():
        listed = list(months)
        if ref != SITE and listed:
            listings.append((ref, listed))
    pages = [
        page
        for ref, months in listings
        for kind in CATALOGUE.values()
        for page in kind.pages(ref, months)
    ]
    return with_rss2(pages, rss2_path)


def pages_reached_by(change: TableChange, rss2_path: str | None = None) -> list[IndexPage]:
    """The index pages one table change can alter, kind by kind."""
    pages = [page for kind in CATALOGUE.values() for page in kind.reached_by(change)]
    return with_rss2(pages, rss2_path)


def pages_forced_by(change: TableChange) -> list[IndexPage]:
    """Pages a change reaches without moving their change counter (a post moved to another
    month): rendered again whatever counter they remember."""
    if isinstance(change, PostChange) and change.moved_month:
        return pages_reached_by(change)
    return []


def change_counter(page: IndexPage) -> Counter:
    """The change counter ``page`` is rendered from: by its kind's catalogue entry."""
    return CATALOGUE[page.kind].counter(page)


def cache_class(page: IndexPage) -> CacheClass:
    """How shared caches keep ``page``: by its kind's catalogue entry."""
    return CATALOGUE[page.kind].cache
