"""Sites of any size on an in-process moto, driven through the real handlers' logic.

Each site has its own buckets, table and distribution (names carry the site's size), so
the sites live side by side in one moto and a measurement can go round them in turn: the
1.2x wall-time target is a ratio, and interleaving keeps machine noise out of it. S3 events
are made in AWS's shape and the stream is read through moto's DynamoDB Streams API, as in
tests/integration/harness.py; the functions' clients are the ones ``blogpub.service`` makes.
"""

from __future__ import annotations

import itertools
import os
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import boto3
from blogpub import service
from blogpub_local.cfn_yaml import load_template
from blogpub_local.resources import declared_table_request, site_distribution_config
from blogpub_local.stream_poller import TableStream
from capacity import CapacityRecorder
from environment import REGION
from posts import post_key, post_source
from probes import REPO

SEED_CHUNK = 1000  # posts published between two drains of the stream while seeding
# Seeding's stream batch size; template.yaml's BatchSize is 10,000 (cut at 6 MB).
STREAM_BATCH = 1000


def s3_event(bucket: str, key: str, kind: str, version_id: str, sequencer: int) -> dict[str, Any]:
    """One S3 notification in AWS's shape (eventVersion 2.1, URL-encoded key)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-06-28T10:00:00.000Z",
                "eventName": kind,
                "responseElements": {"x-amz-request-id": f"REQ{sequencer}"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": 0,
                        "versionId": version_id,
                        "sequencer": f"{sequencer:016X}",
                    },
                },
            }
        ]
    }


@dataclass
class RequestLog:
    """Counts AWS calls by operation, and the paths of every invalidation asked for."""

    calls: dict[str, int] = field(default_factory=dict)
    invalidation_paths: list[str] = field(default_factory=list)
    invalidations: int = 0

    def before(self, model: Any, params: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        self.calls[name] = self.calls.get(name, 0) + 1

    def note_invalidation(self, params: dict[str, Any], **_: Any) -> None:
        self.invalidations += 1
        self.invalidation_paths += params["InvalidationBatch"]["Paths"].get("Items", [])

    def total(self, service_name: str) -> int:
        return sum(n for name, n in self.calls.items() if name.startswith(service_name + "."))


@dataclass
class PublishCost:
    """What publishing one post cost, from the S3 upload to the last index page."""

    pages_written: int
    pages_deleted: int
    s3_puts: int
    s3_requests: int
    dynamodb_requests: int
    read_units: float
    write_units: float
    moto_reported_units: float
    invalidations: int
    invalidation_paths: int
    render_post_seconds: float
    build_indexes_seconds: float
    build_indexes_peak_bytes: int | None = None
    build_indexes_rss: dict[str, object] | None = None
    # Every request by service.operation, and those RenderPostFunction made (the rest: the
    # index batches').
    calls: dict[str, int] = field(default_factory=dict)
    render_post_requests: int = 0

    @property
    def wall_seconds(self) -> float:
        return self.render_post_seconds + self.build_indexes_seconds

    def counts(self) -> dict[str, float]:
        return {
            "pages_written": self.pages_written,
            "pages_deleted": self.pages_deleted,
            "s3_puts": self.s3_puts,
            "s3_requests": self.s3_requests,
            "dynamodb_requests": self.dynamodb_requests,
            "read_units": self.read_units,
            "write_units": self.write_units,
            "moto_reported_units": self.moto_reported_units,
            "invalidations": self.invalidations,
            "invalidation_paths": self.invalidation_paths,
        }


class Site:
    """One site's resources and the two functions working on them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.source, self.bucket, self.table = f"{name}-source", f"{name}-site", f"{name}-table"
        self._sequencer = itertools.count(0x1000)
        self.posts = 0
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (self.source, self.bucket):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=self.source, VersioningConfiguration={"Status": "Enabled"})
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            **declared_table_request(load_template(REPO / "template.yaml"), self.table)
        )
        distribution = boto3.client("cloudfront", region_name=REGION).create_distribution(
            DistributionConfig=site_distribution_config(name, self.bucket, REGION)
        )
        self.distribution_id = str(distribution["Distribution"]["Id"])
        self._s3 = s3
        # botocore omits this endpoint's trailing "/", which moto's in-process router needs.
        self._streams = boto3.client(
            "dynamodbstreams",
            region_name=REGION,
            endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com/",
        )
        self._stream = TableStream(dynamodb, self._streams, self.table)

    def activate(self) -> service.Runtime:
        """Point the functions at this site and make their clients (outside any timing)."""
        os.environ.update(
            {
                "SOURCE_BUCKET": self.source,
                "SITE_BUCKET": self.bucket,
                "TABLE_NAME": self.table,
                "DISTRIBUTION_ID": self.distribution_id,
            }
        )
        runtime = service.runtime()
        _ = runtime.s3, runtime.dynamodb, runtime.cloudfront
        return runtime

    # -- the two functions ------------------------------------------------------------------
    def upload(self, key: str, text: str) -> dict[str, Any]:
        """The author's PUT: the object in the source bucket and its S3 event."""
        response = self._s3.put_object(Bucket=self.source, Key=key, Body=text.encode("utf-8"))
        return s3_event(
            self.source, key, "ObjectCreated:Put", response["VersionId"], next(self._sequencer)
        )

    def remove(self, key: str) -> dict[str, Any]:
        response = self._s3.delete_object(Bucket=self.source, Key=key)
        return s3_event(
            self.source,
            key,
            "ObjectRemoved:DeleteMarkerCreated",
            response["VersionId"],
            next(self._sequencer),
        )

    def render(self, event: dict[str, Any]) -> dict[str, Any]:
        return service.render_post_event(event)

    def pending_records(self) -> list[dict[str, Any]]:
        return list(self._stream.records())

    def build(self, records: list[dict[str, Any]], batch_size: int = STREAM_BATCH) -> None:
        for start in range(0, len(records), batch_size):
            service.build_indexes_event({"Records": records[start : start + batch_size]})

    # -- seeding and measuring --------------------------------------------------------------
    def seed(self, count: int, progress: Any = None) -> dict[str, float]:
        """Publish posts ``self.posts .. count-1`` (newest first), building indexes per chunk."""
        self.activate()
        publish_seconds = build_seconds = 0.0
        while self.posts < count:
            chunk_end = min(count, self.posts + SEED_CHUNK)
            started = time.perf_counter()
            for index in range(self.posts, chunk_end):
                self.render(self.upload(post_key(index), post_source(index)))
            publish_seconds += time.perf_counter() - started
            started = time.perf_counter()
            # Stream batches of the template's BatchSize, as Lambda hands them over: each one
            # renders only the pages its records reach that are behind their counters.
            self.build(self.pending_records())
            build_seconds += time.perf_counter() - started
            self.posts = chunk_end
            if progress is not None:
                progress(self.name, self.posts, count)
        return {"publish_seconds": publish_seconds, "build_seconds": build_seconds}

    def publish_one(
        self, key: str, text: str, *, trace_memory: bool = False, rss_endpoint: str | None = None
    ) -> PublishCost:
        """Publish one post and build the indexes it changes, counting every request.

        ``trace_memory``: the build runs under tracemalloc. ``rss_endpoint``: the build runs in
        a fresh interpreter that reaches this moto at that endpoint, for its peak RSS.
        """
        runtime = self.activate()
        log, capacity = RequestLog(), CapacityRecorder()
        clients = (runtime.s3, runtime.dynamodb, runtime.cloudfront)
        for client in clients:
            client.meta.events.register("before-call.*.*", log.before)
        runtime.cloudfront.meta.events.register(
            "provide-client-params.cloudfront.CreateInvalidation", log.note_invalidation
        )
        capacity.attach(runtime.dynamodb)
        event = self.upload(key, text)
        started = time.perf_counter()
        rendered = self.render(event)
        render_seconds = time.perf_counter() - started
        render_requests = sum(log.calls.values())
        records = self.pending_records()
        peak: int | None = None
        if trace_memory:
            tracemalloc.start()
        rss: dict[str, object] | None = None
        started = time.perf_counter()
        if rss_endpoint is not None:
            from probes import build_memory_in_subprocess

            rss = build_memory_in_subprocess({"Records": records}, rss_endpoint)
        else:
            self.build(records)
        build_seconds = time.perf_counter() - started
        if trace_memory:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        for client in clients:
            client.meta.events.unregister("before-call.*.*", log.before)
        runtime.cloudfront.meta.events.unregister(
            "provide-client-params.cloudfront.CreateInvalidation", log.note_invalidation
        )
        capacity.detach(runtime.dynamodb)
        results = rendered["results"]
        if not results or results[0]["outcome"] != "published":
            raise RuntimeError(f"{self.name}: {key} was not published: {results}")
        return PublishCost(
            pages_written=log.calls.get("s3.PutObject", 0),
            pages_deleted=log.calls.get("s3.DeleteObject", 0),
            s3_puts=log.calls.get("s3.PutObject", 0),
            s3_requests=log.total("s3"),
            dynamodb_requests=log.total("dynamodb"),
            read_units=capacity.read_units,
            write_units=capacity.write_units,
            moto_reported_units=capacity.reported_units,
            invalidations=log.invalidations,
            invalidation_paths=len(log.invalidation_paths),
            render_post_seconds=render_seconds,
            build_indexes_seconds=build_seconds,
            build_indexes_peak_bytes=peak,
            build_indexes_rss=rss,
            calls=dict(sorted(log.calls.items())),
            render_post_requests=render_requests,
        )

    def unpublish(self, key: str) -> None:
        """Delete a measured post again, so the next measurement meets the same site."""
        self.activate()
        self.render(self.remove(key))
        self.build(self.pending_records())


def newcomer(repetition: int) -> tuple[str, str]:
    """The measured post: newest of all, in the newest month (which every site fills alike)."""
    from posts import NEWEST

    when = NEWEST.replace(day=28, hour=10 + repetition % 10)
    key = f"_posts/bench/newcomer-{repetition}.md"
    # Odd indexes have the Hexo shape: three category levels and two tags, like every round.
    index = 2 * repetition + 1
    return key, post_source(index, date=when, title=f"Newcomer {repetition}")
