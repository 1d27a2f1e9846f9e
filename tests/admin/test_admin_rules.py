"""The pure rules behind the admin operations: payloads, plans, fan-out chunks and drift."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

import pytest
from blogpub import rebuild
from blogpub.admin import parse_request
from blogpub.errors import AdminRequestError
from blogpub.events import normalise_sequencer, s3_changes
from blogpub.models import SITE, ListRef, MonthCount
from blogpub.rebuild import (
    RebuildCommand,
    chunk_parts,
    first_commands,
    force_plan,
    forced_event,
    split_rebuild_commands,
)
from blogpub.rollback import needed_operation
from blogpub.table import ListRecord, PostRecord
from blogpub.verify import count_drift, item_drift, page_drift
from blogpub.versions import SourceVersion, newest_first, state_at, superseded_at
from blogpub_cli.admin_commands import admin_payload, check_rollback_arguments

from tests.conftest import load_event

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def version(
    vid: str, seconds: int, *, latest: bool = False, marker: bool = False, etag: str = ""
) -> SourceVersion:
    return SourceVersion(
        "_posts/a.md", vid, T0 + timedelta(seconds=seconds), latest, marker, etag or vid
    )


# -- payloads ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "rollback-history.json",
        "rollback-post.json",
        "rollback-version.json",
        "rollback-site.json",
        "rollback-rebuild.json",
        "rollback-verify.json",
    ],
)
def test_the_events_files_are_valid_requests(name: str) -> None:
    payload = load_event(name)
    request = parse_request(payload, "lambda-request-id")
    assert request.action == payload["action"]
    assert request.request_id == payload.get("request_id", "lambda-request-id")


def test_a_site_rollback_time_is_read_as_utc() -> None:
    request = parse_request({"action": "rollback-site", "at": "2026-11-28T11:00:00+01:00"}, "r")
    assert request.at == T0


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ([], "JSON object"),
        ({"action": "rollback", "key": "_posts/a.md", "steps": 0}, "1 or more"),
        ({"action": "rollback", "key": "_posts/a.md", "steps": True}, "whole number"),
        (
            {"action": "rollback", "key": "_posts/a.md", "steps": 1, "version_id": "v"},
            "exactly one",
        ),
        ({"action": "rollback-site", "at": "2026-11-28T10:00:00"}, "timezone"),
        ({"action": "rollback-site"}, '"at" is required'),
        ({"action": "history", "key": "_posts/a.md", "steps": 1}, "unknown field(s) steps"),
        ({"action": "verify", "request_id": "has spaces"}, "request_id"),
        ({"action": "rollback", "key": "_posts/a.md", "steps": 1, "dry_run": "yes"}, "dry_run"),
        ({"action": "history", "key": ""}, "non-empty"),
    ],
)
def test_bad_payloads_say_what_to_fix(payload: object, fragment: str) -> None:
    with pytest.raises(AdminRequestError, match=None) as raised:
        parse_request(payload, "r")
    assert fragment in str(raised.value)


def test_only_rollbacks_that_write_and_rebuilds_run_once_per_request_id() -> None:
    writes = {
        action: parse_request(payload, "r").writes
        for action, payload in {
            "history": {"action": "history", "key": "_posts/a.md"},
            "dry": {"action": "rollback", "key": "_posts/a.md", "steps": 1, "dry_run": True},
            "rollback": {"action": "rollback", "key": "_posts/a.md", "steps": 1},
            "rebuild": {"action": "rebuild"},
            "verify": {"action": "verify"},
        }.items()
    }
    assert writes == {
        "history": False,
        "dry": False,
        "rollback": True,
        "rebuild": True,
        "verify": False,
    }


# -- versions and plans --------------------------------------------------------------------
def test_versions_are_ordered_newest_first_with_the_latest_on_top() -> None:
    history = newest_first(
        [
            version("v1", 0),
            version("v3", 2, latest=True),
            version("dm", 1, marker=True),
        ]
    )
    assert [v.version_id for v in history] == ["v3", "dm", "v1"]
    assert state_at(history, T0 + timedelta(seconds=1)).version_id == "dm"  # type: ignore[union-attr]
    assert state_at(history, T0 - timedelta(seconds=1)) is None
    assert superseded_at(history, history[2]) == T0 + timedelta(seconds=1)
    assert superseded_at(history, history[0]) is None


@pytest.mark.parametrize(
    ("current", "target", "operation"),
    [
        (version("v2", 1, latest=True), version("v1", 0), "restore"),
        (version("v2", 1, latest=True, etag="same"), version("v1", 0, etag="same"), None),
        (version("dm", 1, latest=True, marker=True), version("v1", 0), "restore"),
        (version("v2", 1, latest=True), None, "remove"),
        (version("v2", 1, latest=True), version("dm", 0, marker=True), "remove"),
        (version("dm", 1, latest=True, marker=True), None, None),
    ],
)
def test_the_operation_a_plan_needs(
    current: SourceVersion, target: SourceVersion | None, operation: str | None
) -> None:
    assert needed_operation(current, target) == operation


# -- rebuild fan-out ------------------------------------------------------------------------
def record(last_version: str, status: str = "published") -> PostRecord:
    return PostRecord(
        "_posts/a.md",
        sequencer=normalise_sequencer("00AB"),
        status=status,  # type: ignore[arg-type]
        last_version_id=last_version,
    )


def test_force_plan_re_renders_what_the_table_holds_under_its_sequencer() -> None:
    current = version("v2", 1, latest=True)
    assert force_plan(current, None, None) == (current, "")
    in_sync = force_plan(current, record("v2"), None)
    assert in_sync == (current, normalise_sequencer("00AB"))
    lagging = force_plan(current, record("v1"), "v2")
    assert lagging is not None and lagging[0].version_id == "v2"
    assert force_plan(current, record("v3"), "v3") is None  # the table is ahead: leave it
    marker = version("dm", 2, latest=True, marker=True)
    assert force_plan(marker, record("dm", "deleted"), None) is None
    assert force_plan(marker, record("v2"), None) == (marker, normalise_sequencer("00AB"))


def test_forced_events_decode_as_forced_s3_changes_from_sqs() -> None:
    event = forced_event("src", version("v1", 0), normalise_sequencer("00AB"), "rb")
    sqs_event = {"Records": [{"eventSource": "aws:sqs", "body": json.dumps(event)}]}
    (change,) = list(s3_changes(sqs_event))
    assert (change.key, change.version_id, change.force) == ("_posts/a.md", "v1", True)
    assert change.sequencer == normalise_sequencer("00AB")


def test_rebuild_commands_are_split_from_s3_records() -> None:
    commands = first_commands("rb")
    records = [{"eventSource": "aws:sqs", "body": c.body()} for c in commands]
    records.append({"eventSource": "aws:sqs", "body": json.dumps({"Records": []})})
    rest, found = split_rebuild_commands({"Records": records})
    assert found == commands
    assert len(rest["Records"]) == 1
    assert [c.kind for c in found if c.step == "index-pages"] == ["site", "category", "tag"]


def listing(list_id: str, months: int) -> ListRecord:
    ref = SITE if list_id == "site" else ListRef("category", (list_id,), (list_id,))
    return ListRecord(ref, months, tuple(MonthCount(2024, m + 1, 1) for m in range(months)))


def test_index_chunks_cover_every_part_once_and_go_on_where_they_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = [listing("a", 3), listing("b", 1), listing("c", 2)]
    ids = [r.ref.list_id for r in records]
    monkeypatch.setattr(rebuild, "PARTS_PER_CHUNK", 3)
    seen = []
    command: RebuildCommand | None = RebuildCommand("index-pages", "rb", kind="category")
    while command is not None:
        after = ids.index(command.after) + 1 if command.after else 0  # the registry query
        parts, command = chunk_parts(records[after:], command, None)
        assert len(parts) <= 3
        seen += [(r.ref.list_id, p) for r, p in parts]
    expected = [(r.ref.list_id, p) for r in records for p in (None, *r.months)]
    assert seen == expected


# -- drift ------------------------------------------------------------------------------------
def test_item_drift_names_missing_stale_and_extra_items() -> None:
    current = {
        "_posts/a.md": version("v2", 1, latest=True),
        "_posts/b.md": SourceVersion("_posts/b.md", "b1", T0, True, False),
        "_posts/gone.md": SourceVersion("_posts/gone.md", "dm", T0, True, True),
    }
    records = {
        "_posts/a.md": record("v1"),
        "_posts/gone.md": PostRecord("_posts/gone.md", "", status="deleted", last_version_id="dm"),
        "_posts/orphan.md": PostRecord("_posts/orphan.md", "", status="published"),
    }
    kinds = {(d.kind, d.key) for d in item_drift(current, records)}
    assert kinds == {
        ("stale-item", "_posts/a.md"),
        ("missing-item", "_posts/b.md"),
        ("extra-item", "_posts/orphan.md"),
    }


def test_count_drift_compares_registry_sizes_with_published_posts() -> None:
    ref = ListRef("category", ("x",), ("X",))
    published = PostRecord("_posts/a.md", "", status="published", lists=(ref,))
    registries = [ListRecord(SITE, 1, ()), ListRecord(ref, 2, ())]
    drift = count_drift([published], registries)
    assert [d.detail for d in drift] == [
        "listing category:x counts 2, the table has 1 published posts in it"
    ]


def test_count_drift_compares_month_counts_with_published_posts() -> None:
    ref = ListRef("category", ("x",), ("X",))
    published = [
        PostRecord(f"_posts/{n}.md", "", status="published", sort_key=date, lists=(SITE, ref))
        for n, date in enumerate(
            ["2024-02-03T10:00:00", "2024-02-09T10:00:00", "2024-03-01T08:00:00"]
        )
    ]
    months = (MonthCount(2024, 3, 1), MonthCount(2024, 2, 2))
    assert count_drift(published, [ListRecord(SITE, 3, months), ListRecord(ref, 3, months)]) == []
    drifted = (MonthCount(2024, 3, 2), MonthCount(2024, 2, 2))  # March counts one post too many
    drift = count_drift(published, [ListRecord(SITE, 3, months), ListRecord(ref, 3, drifted)])
    assert [d.detail for d in drift] == [
        "listing category:x counts 2 posts in 2024-03, the table has 1"
    ]


def test_page_drift() -> None:
    stored = {"/a/": "h1", "/b/": "old"}
    assert page_drift("/a/", "p", "h1", stored) is None
    assert page_drift("/b/", "p", "h2", stored).kind == "stale-page"  # type: ignore[union-attr]
    assert page_drift("/c/", "p", "h3", stored).kind == "missing-page"  # type: ignore[union-attr]
    assert page_drift("/a/", "p", None, stored).kind == "extra-page"  # type: ignore[union-attr]
    assert page_drift("/c/", "p", None, stored) is None


# -- the CLI's payloads --------------------------------------------------------------------
def cli_args(**values: object) -> argparse.Namespace:
    defaults = {
        "key": None,
        "version_id": None,
        "steps": None,
        "at": None,
        "dry_run": False,
        "request_id": None,
        "requested_by": "me",
        "reason": None,
    }
    return argparse.Namespace(**(defaults | values))


def test_cli_payloads_are_valid_requests_with_a_fresh_request_id() -> None:
    site = admin_payload(cli_args(action="rollback", at="2026-11-28T10:00:00Z", dry_run=True))
    post = admin_payload(cli_args(action="rollback", key="_posts/a.md", steps=1, reason="oops"))
    again = admin_payload(cli_args(action="rollback", key="_posts/a.md", steps=1))
    assert site["action"] == "rollback-site" and site["dry_run"] is True
    assert post["request_id"] != again["request_id"]
    for payload in (site, post, admin_payload(cli_args(action="verify"))):
        assert parse_request(payload, "fallback").action == payload["action"]
    assert check_rollback_arguments(cli_args(action="rollback", key="_posts/a.md", at="x"))
    assert check_rollback_arguments(cli_args(action="rollback"))
    assert check_rollback_arguments(cli_args(action="rollback", key="_posts/a.md", steps=1)) is None
