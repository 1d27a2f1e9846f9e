"""RollbackFunction against moto: history, rollbacks, refusals, audit, rebuild and verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from blogpub import keys, rebuild
from blogpub.admin import Admin, admin_event, parse_request
from blogpub.errors import OutsideRetentionError
from blogpub.service import runtime

from tests.admin.conftest import (
    AdminPipeline,
    LambdaContext,
    post_text,
    utc_now_after_a_second,
)
from tests.integration.harness import SITE, TABLE

KEY = "_posts/admin-demo.md"


def publish(pipeline: AdminPipeline, key: str, text: str) -> dict[str, object]:
    event = pipeline.put(key, text)
    pipeline.build()
    return event


def three_versions(pipeline: AdminPipeline) -> list[dict[str, bytes]]:
    """Versions 1, 2, 3 of one post; the whole site after each."""
    sites = []
    for number, category in ((1, "Alpha"), (2, "Beta"), (3, "Gamma")):
        text = post_text(f"Version {number}", categories=f"[Notes, {category}]")
        publish(pipeline, KEY, text)
        sites.append(pipeline.site_objects())
    return sites


def test_history_lists_every_version_with_what_published_it(
    admin_pipeline: AdminPipeline,
) -> None:
    events = [publish(admin_pipeline, KEY, post_text(f"Take {n}")) for n in (1, 2)]
    admin_pipeline.put(KEY, "---\ntitle: [broken\n---\n")
    admin_pipeline.build()

    answer = admin_pipeline.admin({"action": "history", "key": KEY})

    assert answer["ok"] is True
    versions = answer["versions"]
    assert [v["title"] for v in versions] == [None, "Take 2", "Take 1"]
    assert [v["status"] for v in versions] == ["rejected", "published", "published"]
    assert [v["steps_back"] for v in versions] == [0, 1, 2]
    assert versions[0]["current"] and versions[0]["error"]
    request_ids = [e["Records"][0]["responseElements"]["x-amz-request-id"] for e in events]  # type: ignore[index]
    assert [v["published_by"]["s3_request_id"] for v in versions[1:]] == request_ids[::-1]
    assert answer["post"]["status"] == "published"  # the last good version stays online


def test_rollback_to_version_one_then_roll_back_the_rollback(
    admin_pipeline: AdminPipeline,
) -> None:
    site_v1, _, site_v3 = three_versions(admin_pipeline)
    first = admin_pipeline.admin({"action": "history", "key": KEY})["versions"][-1]

    answer = admin_pipeline.admin(
        {"action": "rollback", "key": KEY, "version_id": first["version_id"], "reason": "test"}
    )

    assert answer["ok"] and answer["changed"] == 1
    assert admin_pipeline.site_objects() == site_v1
    record = runtime().table().get_post(KEY)
    assert record is not None and record.entry is not None
    assert record.entry.title == "Version 1"
    assert record.version_id == answer["changes"][0]["new_version"]
    assert [ref.name for ref in record.lists if ref.kind == "category"] == ["Notes", "Alpha"]

    undo = admin_pipeline.admin({"action": "rollback", "key": KEY, "steps": 1})

    assert undo["ok"] and undo["changes"][0]["to_version"] != first["version_id"]
    assert admin_pipeline.site_objects() == site_v3


def test_a_retried_request_rolls_back_once(admin_pipeline: AdminPipeline) -> None:
    three_versions(admin_pipeline)
    request = {"action": "rollback", "key": KEY, "steps": 1, "request_id": "retry-me"}

    first = admin_pipeline.admin(request)
    versions_after_first = admin_pipeline.versions(KEY)
    again = admin_pipeline.admin(request, deliver=False)

    assert again == first
    assert admin_pipeline.versions(KEY) == versions_after_first
    other = admin_pipeline.admin({**request, "steps": 2}, deliver=False)
    assert other["ok"] is False and "already used" in other["error"]["message"]


def test_a_deleted_post_can_be_restored(admin_pipeline: AdminPipeline) -> None:
    publish(admin_pipeline, KEY, post_text("Still wanted"))
    site = admin_pipeline.site_objects()
    admin_pipeline.delete(KEY)
    admin_pipeline.build()
    assert admin_pipeline.site_objects() != site

    answer = admin_pipeline.admin({"action": "rollback", "key": KEY, "steps": 1})

    assert answer["changes"][0]["operation"] == "restore"
    assert admin_pipeline.site_objects() == site


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"action": "rollback", "key": "_posts/nope.md", "steps": 1}, "unknown-key"),
        ({"action": "history", "key": "notes/readme.txt"}, "unknown-key"),
        ({"action": "rollback", "key": KEY, "version_id": "not-a-version"}, "unknown-version"),
        ({"action": "rollback", "key": KEY, "steps": 5}, "unknown-version"),
        ({"action": "rollback-site", "at": "2999-01-01T00:00:00Z"}, "time-in-future"),
        ({"action": "rollback-site", "at": "2001-01-01T00:00:00Z"}, "outside-retention-window"),
        ({"action": "rollback", "key": KEY}, "invalid-request"),
        ({"action": "rollback", "key": KEY, "steps": 1, "version": "x"}, "invalid-request"),
        ({"action": "rollback-site", "at": "yesterday"}, "invalid-request"),
        ({"action": "undo"}, "invalid-request"),
    ],
)
def test_refusals_say_what_is_wrong_and_are_audited(
    admin_pipeline: AdminPipeline, payload: dict[str, object], code: str
) -> None:
    publish(admin_pipeline, KEY, post_text("Only version"))
    before = admin_pipeline.versions(KEY)

    answer = admin_pipeline.admin(payload)

    assert answer["ok"] is False
    assert answer["error"]["code"] == code and answer["error"]["message"]
    assert admin_pipeline.versions(KEY) == before
    audits = runtime().table().recent(keys.AUDIT_PK, 10)
    if answer["action"] in ("rollback", "rollback-site"):
        assert audits[0]["outcome"] == "refused" and audits[0]["error_code"] == code


def test_a_version_replaced_before_the_window_is_refused(admin_pipeline: AdminPipeline) -> None:
    three_versions(admin_pipeline)
    later = datetime.now(UTC) + timedelta(days=31)
    admin = Admin(runtime(), clock=lambda: later)
    request = parse_request({"action": "rollback", "key": KEY, "steps": 2}, "r1")

    with pytest.raises(OutsideRetentionError, match="30-day rollback window"):
        admin.execute(request)
    current = parse_request({"action": "history", "key": KEY}, "r2")
    assert [v["restorable"] for v in admin.execute(current)["versions"]] == [True, False, False]


def test_a_dry_run_plans_and_changes_nothing(admin_pipeline: AdminPipeline) -> None:
    publish(admin_pipeline, "_posts/keep.md", post_text("Keep"))
    at = utc_now_after_a_second()
    publish(admin_pipeline, "_posts/new.md", post_text("New", date="2024-04-01 08:00:00"))
    publish(admin_pipeline, "_posts/keep.md", post_text("Keep, edited"))
    site, items = admin_pipeline.site_objects(), admin_pipeline.table_items()
    versions = admin_pipeline.versions("_posts/")

    answer = admin_pipeline.admin(
        {"action": "rollback-site", "at": at.isoformat(), "dry_run": True}
    )

    assert answer["ok"] and answer["dry_run"] is True
    plan = {change["key"]: change["operation"] for change in answer["changes"]}
    assert plan == {"_posts/keep.md": "restore", "_posts/new.md": "remove"}
    assert "/2024/04/01/new/" in answer["urls"]
    assert admin_pipeline.site_objects() == site
    assert admin_pipeline.versions("_posts/") == versions
    new_items = [i for i in admin_pipeline.table_items() if i[keys.PK]["S"] != keys.AUDIT_PK]
    assert new_items == [i for i in items if i[keys.PK]["S"] != keys.AUDIT_PK]
    audit = runtime().table().recent(keys.AUDIT_PK, 1)[0]
    assert audit["outcome"] == "planned" and audit["dry_run"] is True


def test_site_rollback_undoes_a_burst_byte_for_byte(admin_pipeline: AdminPipeline) -> None:
    for n in range(4):
        publish(
            admin_pipeline, f"_posts/good-{n}.md", post_text(f"Good {n}", date=f"2024-0{n + 1}-02")
        )
    good_site = admin_pipeline.site_objects()
    at = utc_now_after_a_second()
    for n in range(6):
        admin_pipeline.put(
            f"_posts/spam-{n}.md",
            post_text(f"Spam {n}", date=f"2025-01-{n + 1:02d}", categories="[Spam]"),
        )
    admin_pipeline.put("_posts/good-0.md", post_text("Defaced", categories="[Spam]"))
    admin_pipeline.put("_posts/good-1.md", "---\ndate: not a date\n---\n")
    admin_pipeline.delete("_posts/good-2.md")
    admin_pipeline.build()
    assert admin_pipeline.site_objects() != good_site

    answer = admin_pipeline.admin(
        {"action": "rollback-site", "at": at.isoformat(), "requested_by": "ops", "reason": "spam"}
    )

    assert answer["ok"] and answer["changed"] == 9
    assert admin_pipeline.site_objects() == good_site
    audit = runtime().table().recent(keys.AUDIT_PK, 1)[0]
    assert (audit["outcome"], audit["requested_by"], audit["reason"]) == ("done", "ops", "spam")
    again = admin_pipeline.admin({"action": "rollback-site", "at": at.isoformat()})
    assert again["changed"] == 0  # the site already is as it was: nothing to restore twice


def test_verify_finds_drift_and_a_rebuild_repairs_it(
    admin_pipeline: AdminPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        publish(admin_pipeline, f"_posts/p{n}.md", post_text(f"Post {n}", date=f"2024-0{n + 1}-03"))
    assert admin_pipeline.admin({"action": "verify"})["clean"] is True
    record = runtime().table().get_post("_posts/p1.md")
    assert record is not None and record.url
    admin_pipeline.remove_page(record.url.lstrip("/") + "index.html")
    admin_pipeline.remove_page("categories/Notes/index.html")
    admin_pipeline.s3.put_object(Bucket=SITE, Key="stray.html", Body=b"left behind")
    site = admin_pipeline.site_objects()

    report = admin_pipeline.admin({"action": "verify"})

    found = {(d["kind"], d["url"]) for d in report["drift"]}
    assert found == {
        ("missing-page", record.url),
        ("missing-page", "/categories/Notes/"),
        ("extra-page", "/stray.html"),
    }
    assert admin_pipeline.site_objects() == site  # verify changed nothing

    monkeypatch.setattr(rebuild, "LIST_PAGE_KEYS", 2)  # several listing pages: continuations
    monkeypatch.setattr(rebuild, "PARTS_PER_CHUNK", 3)
    started = admin_pipeline.admin({"action": "rebuild", "request_id": "rebuild-1"})
    assert started["ok"] and started["messages"] == 4
    handled = admin_pipeline.drain_rebuild_queue()

    assert handled > 4 + 5  # the first commands, five forced posts and continuations
    after = admin_pipeline.admin({"action": "verify"})
    assert {(d["kind"], d["url"]) for d in after["drift"]} == {("extra-page", "/stray.html")}


def test_a_settings_upload_rebuilds_every_page(admin_pipeline: AdminPipeline) -> None:
    for n in range(3):
        publish(admin_pipeline, f"_posts/s{n}.md", post_text(f"Post {n}", date=f"2023-0{n + 1}-04"))
    before = admin_pipeline.site_objects()

    result = admin_pipeline.put("_config.yml", "title: A Renamed Blog\n")
    rendered = admin_pipeline.render_results[-1]
    assert result and rendered["rebuild"][0]["messages"] == 4
    admin_pipeline.drain_rebuild_queue()

    after = admin_pipeline.site_objects()
    html = {key: body for key, body in after.items() if key.endswith(".html")}
    assert html and all(b"A Renamed Blog" in body for body in html.values())
    assert set(after) == set(before)
    assert admin_pipeline.admin({"action": "verify"})["clean"] is True


def test_audit_records_name_the_request(admin_pipeline: AdminPipeline) -> None:
    three_versions(admin_pipeline)
    admin_pipeline.admin(
        {
            "action": "rollback",
            "key": KEY,
            "steps": 1,
            "request_id": "audit-1",
            "requested_by": "alice@example.com",
            "reason": "broken images",
        }
    )
    items = admin_pipeline.dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.AUDIT_PK}},
    )["Items"]
    assert len(items) == 1
    item = items[0]
    assert keys.audit_of(item[keys.SK]["S"])[1] == "audit-1"
    assert item["requested_by"]["S"] == "alice@example.com"
    assert item["reason"]["S"] == "broken images"
    assert item["outcome"]["S"] == "done" and item["changed_keys"]["L"] == [{"S": KEY}]
    history = admin_pipeline.admin({"action": "history", "key": KEY})["versions"]
    assert history[0]["rollback_request_id"] == "audit-1"
    assert history[0]["requested_by"] == "alice@example.com"


def test_a_forced_re_render_loses_to_a_newer_version(admin_pipeline: AdminPipeline) -> None:
    from blogpub.rebuild import forced_event
    from blogpub.versions import key_history

    publish(admin_pipeline, KEY, post_text("Older"))
    older = key_history(admin_pipeline.s3, "blogpub-source", KEY)[0]
    stored = runtime().table().get_post(KEY)
    assert stored is not None
    forced_older = forced_event("blogpub-source", older, stored.sequencer, "rb")
    publish(admin_pipeline, KEY, post_text("Newer"))

    late = admin_pipeline.deliver(forced_older)["results"][0]

    assert late["outcome"] == "stale"
    newer = runtime().table().get_post(KEY)
    assert newer is not None and newer.entry is not None and newer.entry.title == "Newer"
    current = key_history(admin_pipeline.s3, "blogpub-source", KEY)[0]
    again = admin_pipeline.deliver(forced_event("blogpub-source", current, newer.sequencer, "rb"))
    assert again["results"][0]["outcome"] == "published"


def function_url_event(payload: dict[str, Any], caller_arn: str) -> dict[str, Any]:
    """What Lambda hands the function for a SigV4-signed call to an AWS_IAM function URL."""
    return {
        "version": "2.0",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "http": {"method": "POST", "path": "/"},
            "authorizer": {
                "iam": {
                    "accessKey": "AKIA0000",
                    "accountId": "123456789012",
                    "callerId": "AIDA0000",
                    "userArn": caller_arn,
                    "userId": "AIDA0000",
                }
            },
        },
        "body": json.dumps(payload),
        "isBase64Encoded": False,
    }


def test_the_function_url_records_the_callers_arn_and_a_direct_invoke_is_declared(
    admin_pipeline: AdminPipeline,
) -> None:
    caller = "arn:aws:iam::123456789012:user/alice"
    payload = {"action": "rebuild", "requested_by": "mallory", "request_id": "via-url-1"}
    response = admin_event(function_url_event(payload, caller), LambdaContext())  # type: ignore[arg-type]
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["ok"] is True
    audit = runtime().table().recent(keys.AUDIT_PK, 1)[0]
    assert (audit["requested_by"], audit["requested_by_source"]) == (caller, "iam")
    assert audit["requested_by_declared"] == "mallory"

    admin_pipeline.admin({"action": "rebuild", "requested_by": "mallory", "request_id": "direct-1"})
    audit = runtime().table().recent(keys.AUDIT_PK, 1)[0]
    assert (audit["requested_by"], audit["requested_by_source"]) == ("mallory", "declared")

    refused = admin_event(function_url_event({"action": "nope"}, caller), LambdaContext())  # type: ignore[arg-type]
    assert refused["statusCode"] == 400
