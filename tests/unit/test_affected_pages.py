"""Which index pages a table change reaches (indexes.affected_pages): the rule that keeps a
publish into an existing month away from the pages that list every month (invariant 2)."""

from __future__ import annotations

from dataclasses import replace

from blogpub import urls
from blogpub.events import (
    ListTotalChange,
    MembershipChange,
    MonthCountChange,
    PostChange,
    SitemapPageChange,
)
from blogpub.indexes import affected_pages, post_page_changes
from blogpub.models import SITE, ListRef
from blogpub.pages import pages_forced_by

CATEGORY = ListRef("category", ("编程", "Dockone"), ("编程", "Dockone"))
TAG = ListRef("tag", ("docker",), ("docker",))


def month_count(ref: ListRef, old: int, new: int, *, rebuilt: bool = False) -> MonthCountChange:
    return MonthCountChange(ref, 2026, 6, old, new, rebuilt)


def post_change(
    old_hash: str | None,
    new_hash: str | None,
    *,
    old_url: str | None = "/a/",
    new_url: str | None = "/a/",
    old_status: str | None = "published",
    new_status: str | None = "published",
) -> PostChange:
    return PostChange(
        "_posts/a.md",
        old_status,  # type: ignore[arg-type]
        new_status,  # type: ignore[arg-type]
        old_url,
        new_url,
        old_hash,
        new_hash,
        (SITE, CATEGORY, TAG),
    )


def urls_of(
    *changes: MembershipChange | MonthCountChange | ListTotalChange | PostChange,
) -> set[str]:
    return {page.url for page in affected_pages(changes)}


def test_a_month_count_that_moves_reaches_the_landing_and_the_year_but_no_archive_index() -> None:
    assert urls_of(month_count(SITE, 24, 25)) == {"/", urls.year_url(2026)}
    assert urls_of(month_count(CATEGORY, 24, 25)) == {urls.landing_url(CATEGORY)}


def test_a_month_that_opens_or_closes_reaches_the_pages_that_list_every_month() -> None:
    for old, new in ((0, 1), (1, 0)):
        assert urls_of(month_count(SITE, old, new)) == {
            "/",
            urls.year_url(2026),
            urls.archives_url(SITE),
            urls.sitemap_index_url(),
        }
        assert urls_of(month_count(TAG, old, new)) == {
            urls.landing_url(TAG),
            urls.archives_url(TAG),
        }


def test_a_rebuild_touch_of_a_month_reaches_every_page_of_that_month() -> None:
    touched = month_count(CATEGORY, 3, 3, rebuilt=True)
    assert urls_of(touched) == {
        urls.landing_url(CATEGORY),
        urls.archives_url(CATEGORY),
        urls.month_url(CATEGORY, 2026, 6),
        urls.feed_url(CATEGORY),
    }
    assert urls_of(month_count(SITE, 3, 3, rebuilt=True)) == {
        "/",
        urls.archives_url(SITE),
        urls.month_url(SITE, 2026, 6),
        urls.feed_url(SITE),
        urls.year_url(2026),
        urls.sitemap_index_url(),
        urls.sitemap_month_url(2026, 6),
    }


def test_a_listing_total_reaches_its_landing_and_overview_only() -> None:
    assert urls_of(ListTotalChange(CATEGORY, 4, 5)) == {
        urls.landing_url(CATEGORY),
        urls.overview_url("category"),
    }
    assert urls_of(ListTotalChange(TAG, 0, 1)) == {urls.landing_url(TAG), urls.overview_url("tag")}


def test_a_rebuild_touch_of_a_listing_reaches_its_archive_index_and_feed() -> None:
    assert urls_of(ListTotalChange(CATEGORY, 4, 4, rebuilt=True)) == {
        urls.landing_url(CATEGORY),
        urls.overview_url("category"),
        urls.archives_url(CATEGORY),
        urls.feed_url(CATEGORY),
    }


def test_a_standalone_page_reaches_the_pages_sitemap_and_the_sitemap_index_only() -> None:
    assert urls_of(SitemapPageChange("about/index.md")) == {
        urls.sitemap_pages_url(),
        urls.sitemap_index_url(),
    }


def test_the_site_getting_its_first_post_reaches_the_site_wide_pages() -> None:
    site_wide = {
        "/",
        urls.archives_url(SITE),
        urls.overview_url("category"),
        urls.overview_url("tag"),
        urls.sitemap_index_url(),
        urls.not_found_url(),
        urls.robots_url(),
    }
    assert urls_of(ListTotalChange(SITE, 0, 1)) == site_wide
    assert urls_of(ListTotalChange(SITE, 1, 0)) == site_wide
    rebuilt = site_wide | {urls.feed_url(SITE), urls.sitemap_pages_url()}
    assert urls_of(ListTotalChange(SITE, 1, 1, rebuilt=True)) == rebuilt
    assert urls_of(ListTotalChange(SITE, 1, 2)) == {"/"}


def test_a_membership_reaches_its_landing_month_and_feed_and_for_the_site_year_and_sitemap() -> (
    None
):
    assert urls_of(MembershipChange(SITE, 2026, 6)) == {
        "/",
        urls.month_url(SITE, 2026, 6),
        urls.feed_url(SITE),
        urls.year_url(2026),
        urls.sitemap_month_url(2026, 6),
    }
    assert urls_of(MembershipChange(TAG, 2026, 6)) == {
        urls.landing_url(TAG),
        urls.month_url(TAG, 2026, 6),
    }


def test_a_published_post_with_a_new_page_reaches_the_feeds_it_is_in() -> None:
    assert urls_of(post_change("old", "new")) == {urls.feed_url(SITE), urls.feed_url(CATEGORY)}
    assert urls_of(post_change(None, "new", old_status=None, old_url=None)) == {
        urls.feed_url(SITE),
        urls.feed_url(CATEGORY),
    }
    assert urls_of(post_change("same", "same")) == set()
    assert urls_of(post_change("old", None, new_status="unpublished", new_url=None)) == set()


def test_each_page_is_listed_once_in_url_order() -> None:
    pages = affected_pages([MembershipChange(SITE, 2026, 6), month_count(SITE, 1, 2)])
    assert [page.url for page in pages] == sorted({page.url for page in pages})
    assert len(pages) == 5


def test_post_page_changes_name_the_old_url_and_the_hash_expected_there() -> None:
    assert post_page_changes([post_change("old", "new")]) == {"/a/": "new"}
    assert post_page_changes([post_change("same", "same")]) == {}
    moved = post_change("old", "new", new_url="/b/")
    assert post_page_changes([moved]) == {"/a/": None}
    gone = post_change("old", None, new_status="deleted", new_url=None)
    assert post_page_changes([gone]) == {"/a/": None}
    first = post_change(None, "new", old_status=None, old_url=None)
    assert post_page_changes([first, MembershipChange(SITE, 2026, 6)]) == {}


def test_a_post_moved_to_another_month_forces_the_pages_its_counters_do_not_cover() -> None:
    """A move keeps its listings' totals and counters (the transaction's size bound): its post
    record change reaches, and forces, the pages that show which months a listing has."""
    moved = replace(post_change("same", "same"), old_month=(2025, 12), new_month=(2026, 1))
    assert moved.moved_month
    expected = {urls.year_url(2025), urls.year_url(2026), urls.sitemap_index_url()}
    for ref in (SITE, CATEGORY, TAG):
        expected |= {urls.landing_url(ref), urls.archives_url(ref)}
    expected |= {urls.feed_url(SITE), urls.feed_url(CATEGORY)}  # tags have no feed
    assert urls_of(moved) == expected
    assert {page.url for page in pages_forced_by(moved)} == expected

    in_place = replace(moved, new_month=(2025, 12))
    assert not in_place.moved_month and pages_forced_by(in_place) == []
    new_post = replace(moved, old_status=None, old_month=None)
    assert not new_post.moved_month and pages_forced_by(new_post) == []
