"""An in-process AWS (moto's mock_aws) with the pipeline wired as template.yaml wires it.

S3 events are made here in AWS's shape (moto's own notifications lack versionId and
sequencer), and the table stream is read through moto's DynamoDB Streams API, so the
handlers' logic sees what Lambda would hand it.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import boto3
from blogpub import service
from blogpub_local import moto_fidelity
from blogpub_local.cfn_yaml import load_template
from blogpub_local.resources import declared_table_request, site_distribution_config
from blogpub_local.stream_poller import TableStream

from tests.conftest import REPO

# The local stack's moto: all-or-nothing transactions as DynamoDB's, for every suite on moto.
moto_fidelity.install()

REGION = "us-east-1"
SOURCE = "blogpub-source"
SITE = "blogpub-site"
TABLE = "blogpub-table"


def create_resources() -> str:
    """Buckets, table and distribution as the template declares them; returns the CDN id."""
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in (SOURCE, SITE):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    create_table(boto3.client("dynamodb", region_name=REGION), TABLE)
    distribution = boto3.client("cloudfront", region_name=REGION).create_distribution(
        DistributionConfig=site_distribution_config("blogpub-test", SITE, REGION)
    )
    return str(distribution["Distribution"]["Id"])


def create_table(client: Any, name: str) -> None:
    """The table template.yaml declares (keys, stream), under ``name``."""
    client.create_table(**declared_table_request(load_template(REPO / "template.yaml"), name))


def environment(distribution_id: str) -> dict[str, str]:
    return {
        "SOURCE_BUCKET": SOURCE,
        "SITE_BUCKET": SITE,
        "TABLE_NAME": TABLE,
        "DISTRIBUTION_ID": distribution_id,
        "POSTS_PREFIX": "_posts/",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "blogpub",
        "POWERTOOLS_METRICS_NAMESPACE": "blogpub",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def s3_event(key: str, kind: str, version_id: str, sequencer: int, size: int = 0) -> dict[str, Any]:
    """One S3 notification in AWS's exact shape (eventVersion 2.1, URL-encoded key)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-11-28T10:00:00.000Z",
                "eventName": kind,
                "userIdentity": {"principalId": "AWS:EXAMPLE"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": f"REQ{sequencer}", "x-amz-id-2": "x"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "RenderPost",
                    "bucket": {
                        "name": SOURCE,
                        "ownerIdentity": {"principalId": "EXAMPLE"},
                        "arn": f"arn:aws:s3:::{SOURCE}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": "0" * 32,
                        "versionId": version_id,
                        "sequencer": f"{sequencer:016X}",
                    },
                },
            }
        ]
    }


@dataclass
class RequestCounter:
    """Counts AWS API calls by service and operation (botocore's before-call hook)."""

    calls: dict[str, int] = field(default_factory=dict)
    # An index batch's reads and page writes are made from several threads at once.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, model: Any, params: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1

    def total(self, service_name: str) -> int:
        return sum(n for name, n in self.calls.items() if name.startswith(service_name + "."))

    def count(self, name: str) -> int:
        return self.calls.get(name, 0)


class Pipeline:
    """Drives the two functions as Lambda would: S3 events in, stream batches after."""

    def __init__(self) -> None:
        self.distribution_id = create_resources()
        os.environ.update(environment(self.distribution_id))
        self.s3 = boto3.client("s3", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.cloudfront = boto3.client("cloudfront", region_name=REGION)
        self._sequencer = itertools.count(0x1000)
        # botocore now omits the path's "/" for this service, which moto's in-process
        # router requires; naming the endpoint with it keeps both happy.
        streams = boto3.client(
            "dynamodbstreams",
            region_name=REGION,
            endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com/",
        )
        self._stream = TableStream(self.dynamodb, streams, TABLE)
        self.render_results: list[dict[str, Any]] = []
        self.build_reports: list[dict[str, Any]] = []

    def counter(self) -> RequestCounter:
        """A fresh counter hooked to the clients the functions use."""
        counter = RequestCounter()
        rt = service.runtime()
        for client in (rt.s3, rt.dynamodb, rt.cloudfront):
            client.meta.events.register("before-call.*.*", counter)
        return counter

    def unhook(self, counter: RequestCounter) -> None:
        rt = service.runtime()
        for client in (rt.s3, rt.dynamodb, rt.cloudfront):
            client.meta.events.unregister("before-call.*.*", counter)

    def next_sequencer(self) -> int:
        return next(self._sequencer)

    def put(self, key: str, body: bytes | str, *, deliver: bool = True) -> dict[str, Any]:
        data = body.encode("utf-8") if isinstance(body, str) else body
        response = self.s3.put_object(Bucket=SOURCE, Key=key, Body=data)
        event = s3_event(
            key, "ObjectCreated:Put", response["VersionId"], self.next_sequencer(), len(data)
        )
        if deliver:
            self.deliver(event)
        return event

    def delete(self, key: str, *, deliver: bool = True) -> dict[str, Any]:
        response = self.s3.delete_object(Bucket=SOURCE, Key=key)
        event = s3_event(
            key, "ObjectRemoved:DeleteMarkerCreated", response["VersionId"], self.next_sequencer()
        )
        if deliver:
            self.deliver(event)
        return event

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        result = service.render_post_event(event)
        self.render_results.append(result)
        return result

    def stream_records(self) -> Iterator[dict[str, Any]]:
        return self._stream.records()

    def build(self, batch_size: int = 100) -> list[dict[str, Any]]:
        """Feed every pending stream record to the index builder, in batches."""
        records = list(self.stream_records())
        reports = []
        for start in range(0, len(records), batch_size):
            report = service.build_indexes_event({"Records": records[start : start + batch_size]})
            reports.append(report)
        self.build_reports += reports
        return reports

    def site_objects(self) -> dict[str, bytes]:
        pages: dict[str, bytes] = {}
        paginator = self.s3.get_paginator("list_objects_v2")
        for listing in paginator.paginate(Bucket=SITE):
            for obj in listing.get("Contents", []):
                pages[obj["Key"]] = self.s3.get_object(Bucket=SITE, Key=obj["Key"])["Body"].read()
        return pages

    def invalidations(self) -> list[list[str]]:
        listing = self.cloudfront.list_invalidations(DistributionId=self.distribution_id)
        found = []
        for summary in listing["InvalidationList"].get("Items", []):
            detail = self.cloudfront.get_invalidation(
                DistributionId=self.distribution_id, Id=summary["Id"]
            )
            found.append(detail["Invalidation"]["InvalidationBatch"]["Paths"].get("Items", []))
        return found
