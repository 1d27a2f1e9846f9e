"""The table side of a url-conflict rejection waiting for its URL: the waiter item and the
claim's ``waited`` flag in the publish transaction, and the stream change that releases it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from blogpub import keys
from blogpub.events import StreamChange, UrlReleased
from blogpub.table import WAITED, PostRecord, plan_transaction, table_changes

KEY = "_posts/b.md"
URL = "/fixed/"


def waiting_items(old: PostRecord | None, new: PostRecord) -> list[tuple[str, str, str]]:
    """(operation, pk, sk) of the items that touch a waiter or the waited-for claim."""
    found = []
    for item in plan_transaction("t", old, new).items[1:]:
        ((operation, body),) = item.items()
        key = body.get("Key") or body["Item"]
        pk, sk = key[keys.PK]["S"], key[keys.SK]["S"]
        if keys.partition_of(pk)[0] in ("url_waiter", "url_claim"):
            found.append((operation, pk, sk))
    return found


def rejected(**changes: Any) -> PostRecord:
    record = PostRecord(KEY, "0002", last_outcome="rejected", last_error_reason="url-conflict")
    return replace(record, **changes)


def test_waiter_keys_are_read_back() -> None:
    assert keys.partition_of(keys.waiting_pk(URL)) == ("url_waiter", URL)


def test_a_url_conflict_rejection_waits_and_flags_the_claim() -> None:
    assert waiting_items(None, rejected(waiting_for=URL)) == [
        ("Update", f"URL#{URL}", "URL"),
        ("Put", f"WAITING#{URL}", KEY),
    ]
    (flag,) = [
        body
        for item in plan_transaction("t", None, rejected(waiting_for=URL)).items
        for operation, body in item.items()
        if operation == "Update"
    ]
    assert flag["ConditionExpression"] == "attribute_exists(pk) AND #owner <> :me"


def test_any_other_outcome_stops_the_wait() -> None:
    waiting = rejected(waiting_for=URL)
    published = replace(waiting, status="published", last_outcome="published", url="/b/")
    deleted = replace(waiting, status="deleted", last_outcome="deleted", waiting_for=None)

    assert waiting_items(waiting, replace(published, waiting_for=None)) == [
        ("Put", "URL#/b/", "URL"),
        ("Delete", f"WAITING#{URL}", KEY),
    ]
    assert waiting_items(waiting, deleted) == [("Delete", f"WAITING#{URL}", KEY)]
    assert waiting_items(waiting, rejected(waiting_for=None)) == [("Delete", f"WAITING#{URL}", KEY)]


def test_a_publish_that_never_waited_writes_no_wait() -> None:
    published = PostRecord(KEY, "0001", status="published", last_outcome="published", url=URL)
    assert waiting_items(None, published) == [("Put", f"URL#{URL}", "URL")]


def claim(old: dict[str, Any] | None, new: dict[str, Any] | None) -> StreamChange:
    return StreamChange(
        "REMOVE" if new is None else "MODIFY", keys.url_pk(URL), "URL", new, old, "1"
    )


def test_a_released_claim_reaches_the_builder_only_when_someone_waits() -> None:
    owned = {"owner": "_posts/a.md"}
    waited = {**owned, WAITED: True}

    assert table_changes(claim(owned, None)) == []
    assert table_changes(claim(owned, waited)) == []
    assert table_changes(claim(waited, None)) == [UrlReleased(URL)]
    assert table_changes(claim(waited, {"owner": "_posts/c.md"})) == [UrlReleased(URL)]
