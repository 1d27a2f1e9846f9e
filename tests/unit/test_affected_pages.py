"""Which index pages a table change reaches (indexes.affected_pages): the rule that keeps a
publish into an existing month away from the pages that list every month (invariant 2)."""

from __future__ import annotations

from typing import Any, Literal

from blogpub import keys, urls
from blogpub.events import StreamChange
from blogpub.indexes import affected_pages
from blogpub.models import SITE, ListRef

CATEGORY = ListRef("category", ("编程", "Dockone"), ("编程", "Dockone"))
TAG = ListRef("tag", ("docker",), ("docker",))


def change(
    pk: str,
    sk: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> StreamChange:
    name: Literal["INSERT", "MODIFY", "REMOVE"] = (
        "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    )
    return StreamChange(name, pk, sk, new, old, "1")


def month_count(ref: ListRef, old: int | None, new: int | None, **extra: Any) -> StreamChange:
    def image(n: int | None) -> dict[str, Any] | None:
        if n is None:
            return None
        return {"n": n, **({"names": list(ref.names)} if ref.names else {})}

    new_image = image(new)
    if new_image is not None:
        new_image.update(extra)
    return change(keys.months_pk(ref.list_id), "2026-06", image(old), new_image)


def urls_of(*changes: StreamChange) -> set[str]:
    return {page.url for page in affected_pages(changes)}


def test_a_month_count_that_moves_reaches_the_landing_and_the_year_but_no_archive_index() -> None:
    assert urls_of(month_count(SITE, 24, 25)) == {"/", urls.year_url(2026)}
    assert urls_of(month_count(CATEGORY, 24, 25)) == {urls.landing_url(CATEGORY)}


def test_a_month_that_opens_or_closes_reaches_the_pages_that_list_every_month() -> None:
    for old, new in ((None, 1), (1, 0), (0, 1)):
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
    touched = month_count(CATEGORY, 3, 3, rebuilt_by="rebuild-1")
    assert urls_of(touched) == {
        urls.landing_url(CATEGORY),
        urls.archives_url(CATEGORY),
        urls.month_url(CATEGORY, 2026, 6),
        urls.feed_url(CATEGORY),
    }


def test_a_listing_total_reaches_its_landing_and_overview_only() -> None:
    registry = change(
        keys.registry_pk("category"),
        CATEGORY.list_id,
        {"n": 4, "names": list(CATEGORY.names)},
        {"n": 5, "names": list(CATEGORY.names)},
    )
    assert urls_of(registry) == {urls.landing_url(CATEGORY), urls.overview_url("category")}


def test_the_site_getting_its_first_post_reaches_the_site_wide_pages() -> None:
    first = change(keys.registry_pk("site"), "site", None, {"n": 1})
    assert urls_of(first) >= {
        urls.archives_url(SITE),
        urls.overview_url("category"),
        urls.overview_url("tag"),
        urls.sitemap_index_url(),
        urls.not_found_url(),
        urls.robots_url(),
    }
    later = change(keys.registry_pk("site"), "site", {"n": 1}, {"n": 2})
    assert urls_of(later) == {"/"}
