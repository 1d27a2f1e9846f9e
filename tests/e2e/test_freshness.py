"""What readers see while the site changes, on the local caching distribution (issue 15).

Four readers poll the home page, a category landing, the site feed and one post page through
the local distribution (template.yaml's cache policy, IndexPageTtlSeconds=1) while 200
operations (new posts, edits, deletes, rollbacks) run through the real pipeline. A watcher
reads the same objects straight from the site bucket, so each answer a reader got can be
dated: its staleness is how long the origin had already held something newer. No reader
may see a listing page staler than the TTL plus the edge's own revalidation time, and after
an invalidation that names the post page no reader may see a post page the origin had
replaced before it. The figures go to test-artifacts/freshness.json (the bench reads them).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import boto3
import pytest
from blogpub_local.stack import LocalStack, StackOptions

from tests.conftest import REPO
from tests.e2e.conftest import TEMPLATE, s3_client

pytestmark = pytest.mark.e2e

TTL_SECONDS = 1
# The edge's own share: a background refetch from the origin and the readers' poll interval.
EDGE_SLACK_SECONDS = 1.0
OPERATIONS = 200
READ_INTERVAL = 0.02
CATEGORY = "Fresh"
POLLED_KEY = "_posts/fresh/polled.md"
POLLED_URL = "/2024/05/01/fresh/polled/"
ARTIFACT = REPO / "test-artifacts" / "freshness.json"


def post(title: str, day: int, body: str = "text") -> bytes:
    front = (
        f"---\ntitle: {title}\ndate: 2024-05-{day:02d} 08:00:00\ncategories: [{CATEGORY}]\n---\n"
    )
    return (front + f"\n{body}\n").encode("utf-8")


@pytest.fixture(scope="module")
def fresh_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    options = StackOptions(
        TEMPLATE,
        stack_name="blogpub-fresh",
        state_file=tmp_path_factory.mktemp("fresh") / "local.json",
        parameters={"IndexPageTtlSeconds": str(TTL_SECONDS)},
    )
    with LocalStack(options) as running:
        yield running


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass
class History:
    """When the origin held which bytes of one object (as a watcher saw it).

    A change is dated by the read that saw it (``changes``: the latest it can have happened)
    and by the start of the read before (``earliest``: that read still saw the old bytes at
    some moment after it started). The watcher reads four objects a round, so the two can be
    tens of milliseconds apart on a loaded machine."""

    changes: list[tuple[float, str]] = field(default_factory=list)
    earliest: list[float] = field(default_factory=list)

    def note(self, at: float, value: str, since: float) -> None:
        if not self.changes or self.changes[-1][1] != value:
            self.changes.append((at, value))
            self.earliest.append(since)

    def may_hold_again(self, value: str, replaced: float, before: float) -> bool:
        """Whether the origin may have held ``value`` again (a rollback) after it was replaced
        at ``replaced`` and before ``before``: a later change back to it that can have
        happened before ``before``."""
        return any(
            seen == value and at > replaced and earliest < before
            for (at, seen), earliest in zip(self.changes, self.earliest, strict=True)
        )

    def replaced_at(self, value: str, before: float) -> float | None:
        """When the origin last replaced ``value`` before ``before``; None if it still held it
        then (or never held it as far as the watcher saw)."""
        held = None
        for index, (at, seen) in enumerate(self.changes):
            if at > before:
                break
            if seen == value:
                held = index
        if held is None or held + 1 >= len(self.changes):
            return None
        replaced = self.changes[held + 1][0]
        return replaced if replaced <= before else None


def read(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), response.headers.get("X-Cache", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("X-Cache", "")


def test_readers_see_listings_within_the_ttl_and_no_invalidated_post(
    fresh_stack: LocalStack,
) -> None:
    stack = fresh_stack
    assert stack.info is not None
    source, site = s3_client(stack), s3_client(stack)
    bucket = stack.info.source_bucket
    put = lambda key, body: source.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]  # noqa: E731
    versions = [put(POLLED_KEY, post("Polled v0", 1))]
    live = []
    for number in range(8):
        key = f"_posts/fresh/seed-{number}.md"
        put(key, post(f"Seed {number}", 2 + number))
        live.append(key)
    assert stack.wait_until_idle(180)

    watched = {
        "/": "index.html",
        f"/categories/{CATEGORY}/": f"categories/{CATEGORY}/index.html",
        "/atom.xml": "atom.xml",
        POLLED_URL: POLLED_URL.lstrip("/") + "index.html",
    }
    histories = {url: History() for url in watched}
    # (when the read started, what it got, the edge's outcome, when it ended)
    observations: dict[str, list[tuple[float, str, str, float]]] = {url: [] for url in watched}
    stop = threading.Event()

    def watch() -> None:
        previous: dict[str, float] = {}  # when the last read of each object started
        while not stop.is_set():
            for url, key in watched.items():
                began = time.monotonic()
                try:
                    body = site.get_object(Bucket=stack.info.site_bucket, Key=key)["Body"].read()
                except site.exceptions.NoSuchKey:
                    body = b""
                histories[url].note(time.monotonic(), digest(body), previous.get(url, began))
                previous[url] = began
            time.sleep(0.005)

    def reader(url: str) -> None:
        while not stop.is_set():
            started = time.monotonic()
            status, body, outcome = read(stack.info.site_url + quote(url))
            assert status == 200, (url, status)
            observations[url].append((started, digest(body), outcome, time.monotonic()))
            time.sleep(READ_INTERVAL)

    threads = [threading.Thread(target=watch, daemon=True)]
    threads += [threading.Thread(target=reader, args=(url,), daemon=True) for url in watched]
    for thread in threads:
        thread.start()
    lambda_client = boto3.client(
        "lambda",
        endpoint_url=stack.endpoint,
        region_name=stack.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    rng = random.Random(15)
    counts = {"publish": 0, "edit": 0, "delete": 0, "rollback": 0}
    started = time.monotonic()
    for number in range(OPERATIONS):
        kind = ("publish", "edit", "edit", "delete", "rollback")[number % 5]
        if kind == "publish" or (kind == "delete" and len(live) < 3):
            key = f"_posts/fresh/new-{number}.md"
            put(key, post(f"New {number}", 10 + number % 18))
            live.append(key)
            kind = "publish"
        elif kind == "edit" and number % 10 == 1:
            versions.append(put(POLLED_KEY, post(f"Polled v{number}", 1)))
        elif kind == "edit":
            key = rng.choice(live)
            put(key, post(f"Edited {number}", 2 + number % 20))
        elif kind == "delete":
            source.delete_object(Bucket=bucket, Key=live.pop(rng.randrange(len(live))))
        else:
            target = rng.choice(versions[:-1])
            lambda_client.invoke(
                FunctionName=stack.info.functions["RollbackFunction"],
                InvocationType="Event",
                Payload=json.dumps(
                    {"action": "rollback", "key": POLLED_KEY, "version_id": target}
                ).encode(),
            )
        counts[kind] += 1
        time.sleep(0.05)
    assert stack.wait_until_idle(300)
    time.sleep(2 * TTL_SECONDS + EDGE_SLACK_SECONDS)  # readers catch up with the last change
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    duration = time.monotonic() - started

    staleness: dict[str, float] = {}
    for url, seen in observations.items():
        worst = 0.0
        for at, value, _, _ in seen:
            replaced = histories[url].replaced_at(value, at)
            if replaced is not None:
                worst = max(worst, at - replaced)
        staleness[url] = worst
    listing_urls = [url for url in watched if url != POLLED_URL]
    bound = TTL_SECONDS + EDGE_SLACK_SECONDS
    for url in listing_urls:
        assert staleness[url] <= bound, (url, staleness[url])
        # Every listing reached its final bytes through expiry alone.
        assert observations[url][-1][1] == histories[url].changes[-1][1], url

    # After an invalidation naming the post page, no reader gets a copy the origin had
    # already replaced when the invalidation was applied.
    post_history = histories[POLLED_URL]
    invalidated = [
        at
        for at, _, paths in stack.site.invalidations
        if any(path.rstrip("/").endswith("polled") or "polled/" in path for path in paths)
    ]
    assert invalidated, "an edit of the polled post must invalidate its page"
    late_old = [
        (at, value)
        for at, value, _, ended in observations[POLLED_URL]
        for applied in invalidated
        if applied < at
        and (replaced := post_history.replaced_at(value, applied)) is not None
        # not held again (a rollback to it) before the read ended, even if the watcher saw
        # that only later
        and not post_history.may_hold_again(value, replaced, ended)
    ]
    assert late_old == []
    assert observations[POLLED_URL][-1][1] == post_history.changes[-1][1]
    listing_paths = [
        path
        for _, _, paths in stack.site.invalidations
        for path in paths
        if path in ("/", "/index.html", "/atom.xml") or path.startswith("/categories/")
    ]
    assert listing_paths == []  # listings are never invalidated

    outcomes: dict[str, int] = {}
    for seen in observations.values():
        for _, _, outcome, _ in seen:
            name = outcome.split(" ")[0]
            outcomes[name] = outcomes.get(name, 0) + 1
    report = {
        "index_page_ttl_seconds": TTL_SECONDS,
        "operations": counts,
        "duration_seconds": round(duration, 1),
        "reads": sum(len(seen) for seen in observations.values()),
        "cache_outcomes": outcomes,
        "max_staleness_seconds": {url: round(value, 3) for url, value in staleness.items()},
        "max_listing_staleness_seconds": round(max(staleness[u] for u in listing_urls), 3),
        "invalidations": len(stack.site.invalidations),
        "invalidation_paths": sum(len(paths) for _, _, paths in stack.site.invalidations),
    }
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    assert outcomes.get("Hit", 0) > 0 and outcomes.get("Stale", 0) > 0
