"""Admin operations on the in-process AWS of tests/integration, driven as Lambda would."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from blogpub import keys
from blogpub.admin import admin_event
from blogpub_local.sqs_poller import lambda_sqs_record
from moto import mock_aws

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext as PowertoolsContext

from tests.integration.harness import REGION, SITE, SOURCE, TABLE, Pipeline, s3_event


@dataclass
class LambdaContext:
    """The context object Lambda hands a handler: what the admin code reads of it."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "RollbackFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:RollbackFunction"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def post_text(
    title: str,
    *,
    date: str = "2024-03-05 10:00:00",
    categories: str = "[Notes, Daily]",
    tags: str = "[admin]",
    body: str = "Some words.",
) -> str:
    return (
        f"---\ntitle: {title}\ndate: {date}\ncategories: {categories}\ntags: {tags}\n---\n\n"
        f"{body}\n"
    )


class AdminPipeline(Pipeline):
    """The pipeline plus RollbackFunction and the RebuildQueue consumer."""

    def __init__(self) -> None:
        super().__init__()
        import os

        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="blogpub-rebuild")["QueueUrl"]
        os.environ["REBUILD_QUEUE_URL"] = self.queue_url
        os.environ["ROLLBACK_WINDOW_DAYS"] = "30"

    def admin(self, payload: dict[str, Any], *, deliver: bool = True) -> dict[str, Any]:
        """Invoke the admin logic; the S3 writes it makes reach the pipeline as events."""
        answer = admin_event(payload, cast("PowertoolsContext", LambdaContext()))
        if deliver and answer.get("ok") and not answer.get("dry_run"):
            for change in answer.get("changes", []):
                kind = (
                    "ObjectCreated:Copy"
                    if change["operation"] == "restore"
                    else "ObjectRemoved:DeleteMarkerCreated"
                )
                self.deliver(
                    s3_event(change["key"], kind, change["new_version"], self.next_sequencer())
                )
            self.build()
        return answer

    def drain_rebuild_queue(self) -> int:
        """Feed RebuildQueue to the render function ten at a time, as the SQS mapping does."""
        handled = 0
        arn = f"arn:aws:sqs:{REGION}:123456789012:blogpub-rebuild"
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                self.build()
                return handled
            self.deliver({"Records": [lambda_sqs_record(m, arn, REGION) for m in messages]})
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
            handled += len(messages)
            self.build()

    def versions(self, key: str) -> list[str]:
        listing = self.s3.list_object_versions(Bucket=SOURCE, Prefix=key)
        entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
        return sorted(e["VersionId"] for e in entries if e["Key"] == key)

    def table_items(self) -> list[dict[str, Any]]:
        items = self.dynamodb.scan(TableName=TABLE)["Items"]
        return sorted(items, key=lambda item: (item[keys.PK]["S"], item[keys.SK]["S"]))

    def remove_page(self, object_key: str) -> None:
        self.s3.delete_object(Bucket=SITE, Key=object_key)


def utc_now_after_a_second() -> datetime:
    """A moment strictly between writes, at S3's one-second LastModified resolution."""
    time.sleep(1.1)
    moment = datetime.now(UTC)
    time.sleep(1.1)
    return moment


@pytest.fixture
def admin_pipeline(aws_env: None) -> Iterator[AdminPipeline]:
    with mock_aws():
        yield AdminPipeline()
