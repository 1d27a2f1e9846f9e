"""Invariants 4 to 7 under load, on the local stack (template.yaml's functions on moto).

200 posts in 5 category trees are uploaded from 16 threads at once, with 50 updates and 20
deletes interleaved, a few bad files and URL collisions among them, while other threads
re-deliver copies of S3 events already delivered (duplicates, often after newer ones).
When the stack is idle, every page in the site bucket must equal, byte for byte, a fresh
render of the final source objects; the table's counts must match its listings. The run's
figures go to test-artifacts/concurrency.json.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from blogpub import keys
from blogpub.errors import PostError
from blogpub.reader import read_post
from blogpub.rebuild import LIST_KINDS
from blogpub.settings import Settings
from blogpub.table import EventRecord, PostRecord, PostTable, from_item
from blogpub_local.stack import LocalStack

from tests.conftest import REPO
from tests.e2e.conftest import local_stack, s3_client, site_objects, stack_client
from tests.integration.test_pipeline import expected_site

pytestmark = pytest.mark.e2e

POSTS = 200
UPDATES = 50
DELETES = 20
UPLOAD_THREADS = 16
DUPLICATES = 60
IDLE_TIMEOUT_SECONDS = 600
ARTIFACT = REPO / "test-artifacts" / "concurrency.json"
TREES = [
    ("Travel", "Europe", "Portugal"),
    ("Food", "Baking"),
    ("Garden", "Vegetables", "Tomatoes"),
    ("Tech", "Python", "Packaging"),
    ("Books", "Novels"),
]
TAGS = ["slow", "notes", "howto", "review", "list", "photos", "draft-ideas", "long-read"]
BAD_FILES = {
    "_posts/bad/latin1.md": "---\ntitle: Café\ndate: 2024-01-01\n---\nbody\n".encode("latin-1"),
    "_posts/bad/binary.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "_posts/bad/when.md": b"---\ntitle: When\ndate: someday soon\n---\nbody\n",
    "_posts/bad/yaml.md": b"---\ntitle: [open\ndate: 2024-01-01\n---\nbody\n",
    "_posts/bad/list.md": b"---\n- just\n- a list\n---\nbody\n",
    "_posts/bad/escape.md": b"---\ntitle: Out\ndate: 2024-01-01\npermalink: ../../x/\n---\nb\n",
}
COLLISIONS = 3  # pairs of posts that claim the same permalink


def post_text(number: int, revision: int = 0) -> str:
    tree = TREES[number % len(TREES)]
    depth = 1 + (number // len(TREES)) % len(tree)
    month = 1 + number % 6
    day = 1 + number % 28
    tags = [TAGS[number % len(TAGS)], TAGS[(number * 3 + 1) % len(TAGS)]]
    revised = f"\n\nRevision {revision}: more notes." if revision else ""
    return (
        "---\n"
        f"title: Post number {number}{' (revised)' if revision else ''}\n"
        f"date: 2024-{month:02d}-{day:02d} {number % 24:02d}:{number % 60:02d}:00\n"
        f"categories: [{', '.join(tree[:depth])}]\n"
        f"tags: [{', '.join(dict.fromkeys(tags))}]\n"
        "---\n\n"
        f"The opening paragraph of post {number}.\n\n<!-- more -->\n\nThe rest.{revised}\n"
    )


def collision_text(pair: int, side: str) -> str:
    return (
        f"---\ntitle: Claim {pair}{side}\ndate: 2024-07-0{pair + 1} 10:00:00\n"
        f"permalink: shared-{pair}/\ncategories: [Claims]\n---\n\nSide {side}.\n"
    )


def post_key(number: int) -> str:
    tree = TREES[number % len(TREES)]
    return f"_posts/{tree[0].lower()}/post-{number:03d}.md"


@dataclass
class Upload:
    key: str
    body: bytes | None  # None: delete
    after: str | None = None  # an upload of this key must have happened first


@dataclass
class Run:
    uploads: list[Upload] = field(default_factory=list)
    done: dict[str, threading.Event] = field(default_factory=dict)
    duplicates_sent: int = 0


def upload_plan(rng: random.Random) -> list[Upload]:
    creates = [Upload(post_key(n), post_text(n).encode()) for n in range(POSTS)]
    creates += [Upload(k, body) for k, body in BAD_FILES.items()]
    creates += [
        Upload(f"_posts/claims/{pair}-{side}.md", collision_text(pair, side).encode())
        for pair in range(COLLISIONS)
        for side in ("a", "b")
    ]
    rng.shuffle(creates)
    changed = rng.sample(range(POSTS), UPDATES + DELETES)
    followers = [
        Upload(post_key(n), post_text(n, 1).encode(), after=post_key(n)) for n in changed[:UPDATES]
    ]
    followers += [Upload(post_key(n), None, after=post_key(n)) for n in changed[UPDATES:]]
    plan = list(creates)
    for follower in followers:
        first = next(i for i, u in enumerate(plan) if u.key == follower.after)
        plan.insert(rng.randint(first + 1, len(plan)), follower)
    return plan


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory, "concurrency") as running:
        yield running


def run_uploads(stack: LocalStack, plan: list[Upload]) -> None:
    assert stack.info is not None
    bucket = stack.info.source_bucket
    s3 = s3_client(stack)
    uploaded = {upload.key: threading.Event() for upload in plan}

    def perform(upload: Upload) -> None:
        if upload.after is not None:
            assert uploaded[upload.after].wait(120)
        if upload.body is None:
            s3.delete_object(Bucket=bucket, Key=upload.key)
        else:
            s3.put_object(Bucket=bucket, Key=upload.key, Body=upload.body)
        uploaded[upload.key].set()

    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        for future in [pool.submit(perform, upload) for upload in plan]:
            future.result()


def redeliver(stack: LocalStack, count: int, rng: random.Random, stop: threading.Event) -> int:
    """Send copies of already delivered S3 records to RenderPostFunction, as S3 may."""
    lambda_client = stack_client(stack, "lambda")
    function = stack.functions["RenderPostFunction"].spec.function_name
    sent = 0
    while sent < count and not stop.is_set():
        delivered = list(stack.delivered_records)
        if len(delivered) < 10:
            time.sleep(0.05)
            continue
        record = rng.choice(delivered)
        lambda_client.invoke(
            FunctionName=function,
            InvocationType="Event",
            Payload=json.dumps({"Records": [record]}).encode(),
        )
        sent += 1
        time.sleep(0.02)
    return sent


def source_objects(stack: LocalStack) -> dict[str, tuple[bytes, str]]:
    """The current version of every object under _posts/: key -> (bytes, version id)."""
    assert stack.info is not None
    s3 = s3_client(stack)
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=stack.info.source_bucket, Prefix="_posts/"
    ):
        for obj in page.get("Contents", []):
            response = s3.get_object(Bucket=stack.info.source_bucket, Key=obj["Key"])
            found[obj["Key"]] = (response["Body"].read(), response["VersionId"])
    return found


def table_items(stack: LocalStack) -> list[dict[str, Any]]:
    assert stack.info is not None
    client = stack.clients["dynamodb"]
    return [
        from_item(item)
        for page in client.get_paginator("scan").paginate(TableName=stack.info.table)
        for item in page["Items"]
    ]


def readable(raw: bytes, key: str) -> bool:
    try:
        read_post(raw, key, Settings())
    except PostError:
        return False
    return True


def render_outcomes(stack: LocalStack) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for logical_id, result in stack.invoker.results:
        if logical_id != "RenderPostFunction":
            continue
        if result.failed:
            outcomes["invocation-failed"] += 1
            continue
        for entry in result.payload.get("results", []):
            outcomes[entry["outcome"]] += 1
    return outcomes


def items_of(items: list[dict[str, Any]], kind: keys.ItemKind) -> list[dict[str, Any]]:
    return [item for item in items if keys.partition_of(item[keys.PK])[0] == kind]


def post_records(items: list[dict[str, Any]]) -> dict[str, PostRecord]:
    records = (PostRecord.from_values(item) for item in items_of(items, "post"))
    return {record.source_key: record for record in records}


def check_table(
    table: PostTable, items: list[dict[str, Any]], published: dict[str, str]
) -> dict[str, int]:
    """Counts match listings, memberships match published posts, claims match their URLs.

    ``published``: source key -> version id expected to be online. Returns figures.
    """
    records = post_records(items)
    for key, version in published.items():
        assert records[key].status == "published", key
        assert records[key].version_id == version, key
    online = {k for k, r in records.items() if r.status == "published"}
    assert online == set(published)
    claims = {keys.partition_of(item[keys.PK])[1] for item in items_of(items, "url_claim")}
    assert claims == {records[k].url for k in online}
    for key in online:
        assert table.url_owner(records[key].url or "") == key
    members: dict[str, list[str]] = {}
    for item in items_of(items, "membership"):
        list_id = keys.partition_of(item[keys.PK])[1]
        members.setdefault(list_id, []).append(item[keys.SK])
    expected_members: dict[str, set[str]] = {}
    for key in online:
        for ref in records[key].lists:
            expected_members.setdefault(ref.list_id, set()).add(key)
    assert {lid: {keys.membership_of(sk)[1] for sk in sks} for lid, sks in members.items()} == (
        expected_members
    )
    registries = [
        record for kind in LIST_KINDS for record in table.list_records(kind, with_months=True)
    ]
    assert {registry.ref.list_id for registry in registries} == set(members)
    for registry in registries:
        list_id = registry.ref.list_id
        sort_keys = members.get(list_id, [])
        assert registry.count == len(sort_keys), list_id
        months = Counter(keys.month_of(sk) for sk in sort_keys)
        stored = {(m.year, m.month): m.count for m in registry.months}
        assert stored == dict(months), list_id
    return {
        "post_records": len(records),
        "listings_checked": len(registries),
        "url_claims": len(claims),
    }


def test_concurrent_uploads_updates_deletes_and_duplicates_converge(stack: LocalStack) -> None:
    rng = random.Random(20260515)
    plan = upload_plan(rng)
    started = time.monotonic()
    stop = threading.Event()
    duplicate_counts: list[int] = []
    duplicator = threading.Thread(
        target=lambda: duplicate_counts.append(redeliver(stack, DUPLICATES, random.Random(7), stop))
    )

    duplicator.start()
    run_uploads(stack, plan)
    duplicator.join(120)
    stop.set()
    uploads_seconds = time.monotonic() - started
    assert stack.wait_until_idle(IDLE_TIMEOUT_SECONDS)
    idle_seconds = time.monotonic() - started

    sources = source_objects(stack)
    losers = set()
    items = table_items(stack)
    records = post_records(items)
    for pair in range(COLLISIONS):
        sides = [f"_posts/claims/{pair}-{side}.md" for side in ("a", "b")]
        statuses = sorted(records[key].status for key in sides)
        assert statuses == ["absent", "published"]
        (loser,) = [key for key in sides if records[key].status == "absent"]
        (owner,) = [key for key in sides if key != loser]
        assert records[loser].last_error_reason == "url-conflict"
        assert f"already owned by {owner}" in (records[loser].last_error or "")
        losers.add(loser)
    online = {
        key: raw for key, (raw, _) in sources.items() if key not in losers and readable(raw, key)
    }
    assert len(online) == POSTS - DELETES + COLLISIONS
    expected = expected_site(online)
    actual = site_objects(stack)
    assert sorted(set(actual) - set(expected)) == []  # no page that should not exist
    assert sorted(set(expected) - set(actual)) == []  # no page missing
    stale = sorted(key for key in expected if actual[key] != expected[key])
    assert stale == []  # no page stale
    assert stack.info is not None
    table = PostTable(stack.clients["dynamodb"], stack.info.table)
    table_figures = check_table(table, items, {key: sources[key][1] for key in online})

    failures = [EventRecord.from_values(item) for item in items_of(items, "failure")]
    for key in BAD_FILES:
        assert records[key].last_outcome == "rejected"
        assert (records[key].last_error or "").startswith(f"{key}: ")
    outcomes = render_outcomes(stack)
    assert outcomes["invocation-failed"] == 0
    assert not any(poller.abandoned_batches for poller in stack.stream_pollers)
    figures = {
        "posts": POSTS,
        "updates": UPDATES,
        "deletes": DELETES,
        "bad_files": len(BAD_FILES),
        "url_collision_pairs": COLLISIONS,
        "upload_threads": UPLOAD_THREADS,
        "s3_events_delivered": len(stack.delivered_records),
        "duplicates_redelivered": duplicate_counts[0],
        "events_delivered_total": len(stack.delivered_records) + duplicate_counts[0],
        "render_outcomes": dict(sorted(outcomes.items())),
        "stale_drops": outcomes["stale"],
        "rejections_by_reason": dict(sorted(Counter(f.reason for f in failures).items())),
        "stream_batches": sum(len(p.results) for p in stack.stream_pollers),
        "pages_compared": len(expected),
        "table": table_figures,
        "seconds_uploading": round(uploads_seconds, 1),
        "seconds_until_idle": round(idle_seconds, 1),
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print("concurrency run:", json.dumps(figures, indent=2))
    assert figures["rejections_by_reason"] == {
        "bad-date": 1,
        "bad-front-matter": 2,
        "bad-permalink": 1,
        "not-utf8": 2,
        "url-conflict": COLLISIONS,
    }
    assert outcomes["stale"] >= 1
