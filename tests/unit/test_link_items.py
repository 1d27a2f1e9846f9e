"""The table side of post_link/post_path (issue 14): post name and reverse-link items, the
transaction that keeps them, and the stream changes that reach the linking posts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from blogpub import keys
from blogpub.events import NameChange, StreamChange
from blogpub.indexes import relinked_names
from blogpub.models import Entry
from blogpub.publish import link_name, linked_names
from blogpub.table import LinkSeen, PostRecord, plan_transaction, table_changes

LINKER = "_posts/linker.md"


def published(links: tuple[LinkSeen, ...], **changes: Any) -> PostRecord:
    entry = Entry(LINKER, "Linker", "/linker/", datetime(2024, 3, 2, tzinfo=UTC), None, "")
    record = PostRecord(
        source_key=LINKER,
        sequencer="0001",
        status="published",
        last_outcome="published",
        url="/linker/",
        sort_key="2024-03-02T00:00:00",
        entry=entry,
        name="linker",
        links=links,
    )
    return replace(record, **changes)


def operations(old: PostRecord | None, new: PostRecord) -> list[tuple[str, str, str]]:
    """(operation, pk, sk) of every item but the post record, the URL claim and the activity."""
    found = []
    for item in plan_transaction("t", old, new).items[1:]:
        ((operation, body),) = item.items()
        key = body.get("Key") or body["Item"]
        pk, sk = key[keys.PK]["S"], key[keys.SK]["S"]
        if keys.partition_of(pk)[0] in ("post_name", "reverse_link"):
            found.append((operation, pk, sk))
    return found


def test_name_and_reverse_link_keys_are_read_back() -> None:
    assert keys.partition_of(keys.name_pk("guides/a")) == ("post_name", "guides/a")
    assert keys.partition_of(keys.linked_pk("guides/a")) == ("reverse_link", "guides/a")


def test_a_first_publish_claims_its_name_and_adds_a_reverse_link_per_target() -> None:
    new = published((LinkSeen("a", "/a/", "A"), LinkSeen("b")))

    assert operations(None, new) == [
        ("Update", "NAME#linker", "NAME"),
        ("Update", "NAME#a", "NAME"),
        ("Put", "LINKED#a", LINKER),
        ("Update", "NAME#b", "NAME"),
        ("Put", "LINKED#b", LINKER),
    ]


def test_each_link_checks_that_its_name_resolves_as_the_page_shows_it() -> None:
    new = published((LinkSeen("a", "/a/", "A"), LinkSeen("b")))
    checks = {
        body["Key"][keys.PK]["S"]: body["ConditionExpression"]
        for item in plan_transaction("t", None, new).items
        for operation, body in item.items()
        if operation == "Update" and body["Key"][keys.PK]["S"] != "NAME#linker"
    }

    assert checks == {
        "NAME#a": "#url = :url AND #title = :title",
        "NAME#b": "attribute_not_exists(#url)",
    }


def test_a_new_version_checks_kept_links_and_drops_removed_ones() -> None:
    old = published((LinkSeen("a", "/a/", "A"), LinkSeen("b")))
    new = published((LinkSeen("a", "/a/", "A"), LinkSeen("c")), sequencer="0002")

    assert operations(old, new) == [
        ("ConditionCheck", "NAME#a", "NAME"),
        ("Update", "NAME#c", "NAME"),
        ("Put", "LINKED#c", LINKER),
        ("Delete", "LINKED#b", LINKER),
    ]


def test_a_rejected_upload_keeps_the_links_without_checking_them() -> None:
    old = published((LinkSeen("a", "/a/", "A"),))
    rejected = replace(old, sequencer="0002", last_outcome="rejected")

    assert operations(old, rejected) == []


def test_a_deleted_post_gives_up_its_name_and_its_reverse_links() -> None:
    old = published((LinkSeen("a", "/a/", "A"),))
    deleted = PostRecord(LINKER, "0002", status="deleted", last_outcome="deleted")

    assert operations(old, deleted) == [
        ("Update", "NAME#linker", "NAME"),
        ("Delete", "LINKED#a", LINKER),
    ]


def test_a_link_to_itself_is_no_reverse_link() -> None:
    new = published((LinkSeen("linker", "/linker/", "Linker"),))

    assert operations(None, new) == [("Update", "NAME#linker", "NAME")]


def name_record(old: dict[str, Any] | None, new: dict[str, Any] | None) -> StreamChange:
    return StreamChange("MODIFY", keys.name_pk("a"), keys.NAME_SK, new, old, "1")


def test_a_name_change_reaches_the_linkers_only_when_someone_links_to_it() -> None:
    claimed = {"owner": "_posts/a.md", "url": "/a/", "title": "A"}
    moved = {**claimed, "url": "/b/"}

    unlinked = table_changes(name_record(claimed, moved))
    linked = table_changes(name_record({**claimed, "linked": True}, {**moved, "linked": True}))
    flag_only = table_changes(name_record(claimed, {**claimed, "linked": True}))

    assert unlinked == [NameChange("a", changed=True, linked=False)]
    assert relinked_names(unlinked) == []
    assert relinked_names(linked) == ["a"]
    assert relinked_names(flag_only) == []
    assert relinked_names(table_changes(name_record({**claimed, "linked": True}, None))) == ["a"]


def test_targets_are_post_names_as_hexo_writes_them_or_full_keys() -> None:
    body = (
        "{% post_link guides/a %} {% post_path _posts/guides/a.md %} "
        "{% post_link b 'B' %}\n\n```\n{% post_link in-code %}\n```\n"
    )

    assert linked_names(body, "_posts/") == ("guides/a", "b")
    assert link_name("_posts/x.markdown", "_posts/") == "x"
    assert link_name("x.md", "_posts/") == "x.md"
    assert linked_names("no tags at all", "_posts/") == ()
    assert link_name("_posts/../x.md", "_posts/") == "_posts/../x.md"


def test_a_target_longer_than_any_source_key_is_no_table_key() -> None:
    long_name = "x" * (keys.MAX_SOURCE_KEY_BYTES + 1)
    body = f"{{% post_link {long_name} %}} {{% post_link short %}}"

    assert linked_names(body, "_posts/") == ("short",)
