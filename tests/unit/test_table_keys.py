"""Table keys are built and taken apart in keys.py, and stream records become typed changes
in table.py: no other module spells a key prefix or reads an item's attribute names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from blogpub import keys
from blogpub.events import (
    ListTotalChange,
    MembershipChange,
    MonthCountChange,
    PostChange,
    StreamChange,
)
from blogpub.models import SITE, Entry, ListRef
from blogpub.table import (
    REBUILT_BY,
    PostRecord,
    count_values,
    membership_values,
    table_changes,
)

CATEGORY = ListRef("category", ("bian-cheng", "docker"), ("编程", "Docker"))
TAG = ListRef("tag", ("py",), ("Py",))
KEY = "_posts/a #1.md"  # a source key may hold the separator


def change(pk: str, sk: str, old: Any, new: Any) -> StreamChange:
    name: Literal["INSERT", "MODIFY", "REMOVE"] = (
        "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    )
    return StreamChange(name, pk, sk, new, old, "1")


@pytest.mark.parametrize(
    ("pk", "expected"),
    [
        (keys.post_pk(KEY), ("post", KEY)),
        (keys.url_pk("/2022/02/a/"), ("url_claim", "/2022/02/a/")),
        (keys.list_pk(CATEGORY.list_id), ("membership", CATEGORY.list_id)),
        (keys.registry_pk("tag"), ("registry", "tag")),
        (keys.months_pk(TAG.list_id), ("month_count", TAG.list_id)),
        (keys.FAIL_PK, ("failure", "")),
        (keys.ACTIVITY_PK, ("activity", "")),
        (keys.AUDIT_PK, ("audit", "")),
        (keys.IDEMPOTENCY_PK, ("idempotency", "")),
        ("TEST#x", ("other", "TEST#x")),
    ],
)
def test_partition_keys_parse_back_to_what_built_them(pk: str, expected: tuple[str, str]) -> None:
    assert keys.partition_of(pk) == expected


def test_sort_keys_parse_back_to_what_built_them() -> None:
    assert keys.month_of(keys.month_prefix(2022, 2)) == (2022, 2)
    membership = keys.membership_sk("2022-02-05T19:13:23", KEY)
    assert keys.membership_of(membership) == ("2022-02-05T19:13:23", KEY)
    assert keys.month_of(membership) == (2022, 2)
    event = keys.event_of(keys.event_sk("2026-11-28T10:00:00.000+00:00", KEY, "v1"))
    assert (event.at, event.source_key, event.version_id) == (
        "2026-11-28T10:00:00.000+00:00",
        KEY,
        "v1",
    )
    assert keys.audit_of(keys.audit_sk("2026-11-28T10:00:00.000+00:00", "req-1")) == (
        "2026-11-28T10:00:00.000+00:00",
        "req-1",
    )


def entry() -> Entry:
    return Entry(KEY, "A", "/a/", datetime(2022, 2, 5, 11, 0, tzinfo=UTC))


def test_a_membership_record_becomes_one_change_per_image_with_the_listing_names() -> None:
    values = membership_values(CATEGORY, "2022-02-05T19:13:23", entry())
    moved = change(values[keys.PK], values[keys.SK], values, values)
    assert table_changes(moved) == [MembershipChange(CATEGORY, 2022, 2)] * 2
    removed = change(values[keys.PK], values[keys.SK], values, None)
    assert table_changes(removed) == [MembershipChange(CATEGORY, 2022, 2)]


def test_a_month_count_becomes_its_old_and_new_counts() -> None:
    old, new = count_values(CATEGORY, 0, (2022, 2)), count_values(CATEGORY, 1, (2022, 2))
    (opened,) = table_changes(change(new[keys.PK], new[keys.SK], old, new))
    assert opened == MonthCountChange(CATEGORY, 2022, 2, 0, 1)
    assert opened.opened_or_closed
    (first,) = table_changes(change(new[keys.PK], new[keys.SK], None, new))
    assert first == MonthCountChange(CATEGORY, 2022, 2, 0, 1)


def test_a_rebuild_marker_makes_a_count_change_rebuilt_once() -> None:
    values = count_values(SITE, 3, (2022, 2))
    touched = {**values, REBUILT_BY: "rebuild-1"}
    (first,) = table_changes(change(values[keys.PK], values[keys.SK], values, touched))
    assert first == MonthCountChange(SITE, 2022, 2, 3, 3, rebuilt=True)
    assert not first.opened_or_closed
    # The same marker again (only the change counter moved): nothing new for any page.
    assert table_changes(change(values[keys.PK], values[keys.SK], touched, touched)) == []


def test_a_registry_item_becomes_a_list_total_change() -> None:
    old, new = count_values(TAG, 2), count_values(TAG, 1)
    assert table_changes(change(new[keys.PK], new[keys.SK], old, new)) == [
        ListTotalChange(TAG, 2, 1)
    ]
    site = count_values(SITE, 1)
    (first,) = table_changes(change(site[keys.PK], site[keys.SK], None, site))
    assert first == ListTotalChange(SITE, 0, 1) and first.opened_or_closed


def test_a_post_record_becomes_a_post_change() -> None:
    old = PostRecord(KEY, "A", "published", url="/a/", page_hash="h1", lists=(SITE, CATEGORY))
    new = PostRecord(KEY, "B", "published", url="/b/", page_hash="h2", lists=(SITE, TAG))
    (moved,) = table_changes(
        change(keys.post_pk(KEY), keys.POST_SK, old.to_values(), new.to_values())
    )
    assert moved == PostChange(KEY, "published", "published", "/a/", "/b/", "h1", "h2", (SITE, TAG))
    (first,) = table_changes(change(keys.post_pk(KEY), keys.POST_SK, None, new.to_values()))
    assert (first.old_status, first.was_published, first.is_published) == (None, False, True)
    (gone,) = table_changes(change(keys.post_pk(KEY), keys.POST_SK, old.to_values(), None))
    assert (gone.new_status, gone.lists) == (None, ())


def test_items_no_page_shows_become_no_change() -> None:
    claim = change(keys.url_pk("/a/"), keys.URL_SK, None, {"owner": KEY})
    failure = change(keys.FAIL_PK, keys.event_sk("t", KEY, "v"), None, {})
    assert table_changes(claim) == [] and table_changes(failure) == []
