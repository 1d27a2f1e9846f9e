"""RenderPostFunction's page write: a first publish writes its page without reading first."""

from __future__ import annotations

import threading
from collections.abc import Callable

from blogpub.models import Page, object_key_for
from blogpub.site import SiteBucket

from tests.integration.harness import SITE, Pipeline

POST = """---
title: Lisbon
date: 2024-06-01 10:00:00
categories: [Travel]
---

Trams and tiles.
"""
EDITED = POST.replace("Trams and tiles.", "Trams, tiles and custard tarts.")


def _page_keys(pipeline: Pipeline, operation: str) -> list[str]:
    """The site keys the functions' S3 client sent ``operation`` for, from here on."""
    from blogpub import service

    keys: list[str] = []

    def record(params: dict[str, str], **_: object) -> None:
        if params.get("Bucket") == SITE:
            keys.append(params["Key"])

    service.runtime().s3.meta.events.register(f"before-parameter-build.s3.{operation}", record)
    return keys


def test_a_first_publish_writes_its_page_without_a_head(pipeline: Pipeline) -> None:
    # Given a post never published before, when it is published
    heads = _page_keys(pipeline, "HeadObject")
    writes = _page_keys(pipeline, "PutObject")
    pipeline.put("_posts/lisbon.md", POST)
    (published,) = pipeline.render_results[-1]["results"]
    page_key = object_key_for(published["url"])
    # Then its page is created with one conditional write and no read of it
    assert published["pages_written"] == [published["url"]]
    assert page_key not in heads and writes.count(page_key) == 1
    assert b"Trams and tiles." in pipeline.s3.get_object(Bucket=SITE, Key=page_key)["Body"].read()

    # And an edit reads the page it replaces first, as before
    pipeline.put("_posts/lisbon.md", EDITED)
    (edited,) = pipeline.render_results[-1]["results"]
    assert edited["pages_written"] == [published["url"]] and heads.count(page_key) == 1


def _page(body: bytes) -> Page:
    return Page(url="/a/", body=body, content_type="text/html; charset=utf-8")


def test_a_new_page_already_stored_is_compared_not_overwritten(pipeline: Pipeline) -> None:
    site = SiteBucket(pipeline.s3, SITE)
    page = _page(b"<p>same</p>")
    assert site.sync("/a/", page, new=True) == "created"
    first = pipeline.s3.head_object(Bucket=SITE, Key=object_key_for("/a/"))["ETag"]

    assert site.sync("/a/", page, new=True) == "unchanged"
    assert pipeline.s3.head_object(Bucket=SITE, Key=object_key_for("/a/"))["ETag"] == first

    other = _page(b"<p>other</p>")
    assert site.sync("/a/", other, new=True) == "updated"
    stored = pipeline.s3.get_object(Bucket=SITE, Key=object_key_for("/a/"))["Body"].read()
    assert stored == b"<p>other</p>"


class FirstTwoHeld:
    """A botocore ``before-parameter-build`` hook that holds each of the first two calls it
    counts until the other has started too: two calls made one after the other never meet
    (the first is let go "alone" after 5 s); two in flight together do ("met")."""

    def __init__(self, counts: Callable[[dict[str, object]], bool] = lambda params: True) -> None:
        self.counts = counts
        self.held = 0
        self.outcomes: list[str] = []
        self._meeting = threading.Barrier(2, timeout=5)
        self._lock = threading.Lock()

    def __call__(self, params: dict[str, object], **_: object) -> None:
        if not self.counts(params):
            return
        with self._lock:
            self.held += 1
            if self.held > 2:
                return
        try:
            self._meeting.wait()
            self.outcomes.append("met")
        except threading.BrokenBarrierError:
            self.outcomes.append("alone")


def _is_index_page(params: dict[str, object]) -> bool:
    from blogpub.site import RENDERED_FROM_METADATA

    metadata = params.get("Metadata")
    return isinstance(metadata, dict) and RENDERED_FROM_METADATA in metadata


def test_an_index_batch_has_its_page_writes_in_flight_together(pipeline: Pipeline) -> None:
    # Given the functions' S3 client holding each of the first two index page writes until
    # the other has started too (a write made after the first has finished never meets it)
    from blogpub import service

    hold = FirstTwoHeld(_is_index_page)
    service.runtime().s3.meta.events.register("before-parameter-build.s3.PutObject", hold)
    # When a post's publish reaches its index pages (home, archives, its category, month…)
    pipeline.put("_posts/lisbon.md", POST)
    (report,) = pipeline.build()
    # Then its batch's page writes wait on S3 together, not one after the other
    assert len(report["pages_written"]) > 2 and hold.held == len(report["pages_written"])
    assert hold.outcomes == ["met", "met"]


def test_an_index_batch_reads_its_listings_together(pipeline: Pipeline) -> None:
    # Given a post published, and the functions' DynamoDB client holding each of the index
    # batch's first two queries until the other has started too (a query made after the first
    # has answered, as when each page's render read on demand, never meets it)
    from blogpub import service

    pipeline.put("_posts/lisbon.md", POST)
    hold = FirstTwoHeld()
    service.runtime().dynamodb.meta.events.register("before-parameter-build.dynamodb.Query", hold)
    counter = pipeline.counter()
    # When its batch renders the index pages it reaches
    (report,) = pipeline.build()
    # Then the listings' first reads wait on DynamoDB together, and are no more than before
    assert len(report["pages_written"]) > 2 and hold.held > 2
    assert hold.outcomes == ["met", "met"]
    assert counter.count("dynamodb.Query") == hold.held
