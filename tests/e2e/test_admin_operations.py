"""Admin operations end to end on the local stack: RollbackFunction through Lambda's Invoke API
(and the `blogpub` CLI), the writes it makes reaching the pipeline as S3 events."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from blogpub.table import PostTable
from blogpub_local.stack import LocalStack

from tests.e2e.conftest import http_get, run_blogpub, s3_client, stack_client

pytestmark = pytest.mark.e2e

KEY = "_posts/admin/versioned.md"


def post_text(title: str, *, date: str, categories: str, body: str = "Body text.") -> bytes:
    front = f"---\ntitle: {title}\ndate: {date}\ncategories: {categories}\ntags: [e2e-admin]\n---\n"
    return (front + f"\n{body}\n").encode("utf-8")


def invoke_rollback_function(stack: LocalStack, payload: dict[str, Any]) -> dict[str, Any]:
    """RollbackFunction by name, as an admin's `aws lambda invoke` reaches it."""
    assert stack.info is not None
    client = stack_client(stack, "lambda")
    response = client.invoke(
        FunctionName=stack.info.functions["RollbackFunction"],
        Payload=json.dumps(payload).encode(),
    )
    assert "FunctionError" not in response
    answer: dict[str, Any] = json.loads(response["Payload"].read())
    assert stack.wait_until_idle(180)
    return answer


def upload(stack: LocalStack, key: str, body: bytes, *, wait: bool = True) -> None:
    assert stack.info is not None
    s3_client(stack).put_object(Bucket=stack.info.source_bucket, Key=key, Body=body)
    if wait:
        assert stack.wait_until_idle(180)


def site_pages(stack: LocalStack) -> dict[str, bytes]:
    assert stack.info is not None
    s3, bucket = s3_client(stack), stack.info.site_bucket
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def source_versions(stack: LocalStack) -> list[tuple[str, str]]:
    assert stack.info is not None
    listing = s3_client(stack).list_object_versions(Bucket=stack.info.source_bucket)
    entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    return sorted((e["Key"], e["VersionId"]) for e in entries)


def post_title_and_version(stack: LocalStack, key: str) -> tuple[str, str | None]:
    """The published title and source version the table records for a post."""
    assert stack.info is not None
    record = PostTable(stack.clients["dynamodb"], stack.info.table).get_post(key)
    assert record is not None and record.entry is not None
    return record.entry.title, record.version_id


def moment_between_writes() -> str:
    """A time strictly between two bursts of writes at S3's one-second resolution."""
    time.sleep(1.1)
    moment = datetime.now(UTC).isoformat()
    time.sleep(1.1)
    return moment


def test_roll_a_post_back_to_version_one_and_undo_it(stack: LocalStack) -> None:
    assert stack.info is not None
    pages = {}
    for number, leaf in ((1, "First"), (2, "Second"), (3, "Third")):
        upload(
            stack,
            KEY,
            post_text(
                f"Admin version {number}", date="2024-06-01 09:00:00", categories=f"[Admin, {leaf}]"
            ),
        )
        pages[number] = site_pages(stack)
    versions = invoke_rollback_function(stack, {"action": "history", "key": KEY})["versions"]
    assert [v["title"] for v in versions] == [f"Admin version {n}" for n in (3, 2, 1)]

    answer = invoke_rollback_function(
        stack,
        {
            "action": "rollback",
            "key": KEY,
            "version_id": versions[2]["version_id"],
            "reason": "e2e",
        },
    )

    assert answer["ok"] is True, answer
    now = site_pages(stack)
    url = "2024/06/01/admin/versioned/index.html"
    assert now[url] == pages[1][url]
    for page in ("categories/Admin/index.html", "categories/Admin/First/index.html", "atom.xml"):
        assert b"Admin version 1" in now[page] and b"Admin version 3" not in now[page]
        assert now[page] == pages[1][page]
    assert "categories/Admin/Third/index.html" not in now
    title, version = post_title_and_version(stack, KEY)
    assert title == "Admin version 1"
    assert version == answer["changes"][0]["new_version"]

    undo = run_blogpub(
        ["rollback", KEY, "--steps", "1", "--state", stack.info.state_file, "--reason", "undo"],
        cwd=stack.options.template_path.parent,
    )

    assert undo.returncode == 0, undo.stderr
    assert json.loads(undo.stdout)["changes"][0]["operation"] == "restore"
    assert stack.wait_until_idle(180)
    assert site_pages(stack) == pages[3]
    assert post_title_and_version(stack, KEY)[0] == "Admin version 3"


def test_roll_the_site_back_before_a_burst_of_bad_posts(stack: LocalStack) -> None:
    assert stack.info is not None
    good = [f"_posts/burst/good-{n}.md" for n in range(6)]
    for n, key in enumerate(good):
        upload(
            stack,
            key,
            post_text(f"Good post {n}", date=f"2023-0{n + 1}-10 12:00:00", categories="[Good]"),
            wait=False,
        )
    assert stack.wait_until_idle(180)
    good_site = site_pages(stack)
    at = moment_between_writes()

    bad: list[tuple[str, bytes]] = [
        (
            f"_posts/burst/spam-{n}.md",
            post_text(
                f"Spam {n}",
                date=f"2025-0{n % 9 + 1}-1{n % 7} 08:00:00",
                categories=f"[Spam, S{n % 5}]",
            ),
        )
        for n in range(44)
    ]
    bad += [(key, post_text("Defaced", date="2025-01-01", categories="[Spam]")) for key in good[:4]]
    bad += [(key, b"---\ntitle: [unclosed\n---\n") for key in good[4:6]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda item: upload(stack, *item, wait=False), bad))
    s3_client(stack).delete_object(Bucket=stack.info.source_bucket, Key="_posts/burst/good-5.md")
    assert stack.wait_until_idle(300)
    burst_site, burst_versions = site_pages(stack), source_versions(stack)
    assert burst_site != good_site

    plan = invoke_rollback_function(stack, {"action": "rollback-site", "at": at, "dry_run": True})

    assert plan["ok"] is True and plan["changed"] == 50
    operations = sorted(c["operation"] for c in plan["changes"])
    assert operations == ["remove"] * 44 + ["restore"] * 6
    assert site_pages(stack) == burst_site and source_versions(stack) == burst_versions

    done = invoke_rollback_function(
        stack, {"action": "rollback-site", "at": at, "requested_by": "e2e", "reason": "spam"}
    )

    assert done["ok"] is True and done["changed"] == 50
    assert site_pages(stack) == good_site


def test_verify_finds_a_page_deleted_behind_the_pipelines_back_and_rebuild_repairs_it(
    stack: LocalStack,
) -> None:
    assert stack.info is not None
    upload(
        stack,
        "_posts/admin/verified.md",
        post_text("Verified", date="2022-02-02", categories="[Checked]"),
    )
    assert invoke_rollback_function(stack, {"action": "verify"})["clean"] is True
    site = s3_client(stack)
    post_page = "2022/02/02/admin/verified/index.html"
    site.delete_object(Bucket=stack.info.site_bucket, Key=post_page)
    site.delete_object(Bucket=stack.info.site_bucket, Key="categories/Checked/index.html")
    before = site_pages(stack)

    report = run_blogpub(
        ["verify", "--state", stack.info.state_file], cwd=stack.options.template_path.parent
    )

    assert report.returncode == 0, report.stderr
    drift = {(d["kind"], d["url"]) for d in json.loads(report.stdout)["drift"]}
    assert drift == {
        ("missing-page", "/2022/02/02/admin/verified/"),
        ("missing-page", "/categories/Checked/"),
    }
    assert site_pages(stack) == before  # verify changes nothing

    started = invoke_rollback_function(stack, {"action": "rebuild", "reason": "repair"})

    assert started["ok"] is True
    assert invoke_rollback_function(stack, {"action": "verify"})["clean"] is True
    page = http_get(stack.info.site_url + "/2022/02/02/admin/verified/")
    assert page.status == 200 and "Verified" in page.text
