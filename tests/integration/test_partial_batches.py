"""Partial batch failures, applied as Lambda applies them (moto, in process).

RebuildQueue: a message that fails is reported alone; the mapping deletes the others and
only the failed one comes back. Table stream: a record that cannot be read is reported
(first failure only); the pages of every other record in the batch are built all the same.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from blogpub import keys, service
from blogpub.table import COUNT, to_item
from blogpub_local.lambda_runtime import InvocationResult
from blogpub_local.sqs_poller import lambda_sqs_record, succeeded_messages
from blogpub_local.stream_poller import first_failed_index
from moto import mock_aws

from tests.conftest import load_event
from tests.integration.harness import REGION, SITE, TABLE, Pipeline
from tests.reliability.faults import S3_ACCESS_DENIED, FaultInjector, FaultPlan, url_contains
from tests.reliability.posts import hexo_post

QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:blogpub-rebuild"
LISBON_KEY = "_posts/travel/lisbon.md"
PORTO_KEY = "_posts/travel/porto.md"
FARO_KEY = "_posts/travel/faro.md"


class QueuePipeline(Pipeline):
    """The pipeline with RebuildQueue, whose messages reach the render function in batches."""

    def __init__(self) -> None:
        super().__init__()
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = self.sqs.create_queue(
            QueueName="blogpub-rebuild", Attributes={"VisibilityTimeout": "180"}
        )["QueueUrl"]
        os.environ["REBUILD_QUEUE_URL"] = self.queue_url

    def receive(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        return [lambda_sqs_record(message, QUEUE_ARN, REGION) for message in messages]

    def invoke_and_settle(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """One invocation, then what the SQS mapping does: delete the messages that succeeded."""
        answer = self.deliver({"Records": records})
        result = InvocationResult(payload=answer, error=None, duration_ms=1.0, request_id="r")
        done = succeeded_messages(records, result, report_item_failures=True)
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(done)
                ],
            )
        return answer

    def messages_left(self) -> int:
        """Messages still in the queue, visible or in flight."""
        counts = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(count) for count in counts.values())

    def visibility_expires(self, record: dict[str, Any]) -> None:
        """What the visibility timeout does in time: the message is visible again."""
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )


@pytest.fixture
def queue_pipeline(aws_env: None) -> Iterator[QueuePipeline]:
    with mock_aws():
        yield QueuePipeline()


def post_event_message(pipeline: QueuePipeline, key: str, title: str) -> str:
    """Upload a post and queue its S3 notification (the SQS-wrapped S3 shape)."""
    event = pipeline.put(key, hexo_post(title, categories=["Travel"]), deliver=False)
    return json.dumps(event)


def test_a_failed_rebuild_message_is_reported_alone_and_comes_back_alone(
    queue_pipeline: QueuePipeline,
) -> None:
    bodies = [
        post_event_message(queue_pipeline, LISBON_KEY, "Lisbon"),
        post_event_message(queue_pipeline, PORTO_KEY, "Porto"),
        post_event_message(queue_pipeline, FARO_KEY, "Faro"),
    ]
    queue_pipeline.sqs.send_message_batch(
        QueueUrl=queue_pipeline.queue_url,
        Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)],
    )
    faults = FaultInjector({"s3": service.runtime().s3})
    denied = faults.inject(FaultPlan("s3.GetObject", [S3_ACCESS_DENIED], url_contains("porto")))
    try:
        records = queue_pipeline.receive()
        assert len(records) == 3
        answer = queue_pipeline.invoke_and_settle(records)
    finally:
        faults.remove_all()

    porto = next(r for r in records if PORTO_KEY in r["body"])
    assert denied.attempts == 1
    assert answer["batchItemFailures"] == [{"itemIdentifier": porto["messageId"]}]
    assert sorted(r["key"] for r in answer["results"]) == [FARO_KEY, LISBON_KEY]

    assert queue_pipeline.messages_left() == 1  # the two that succeeded were deleted
    queue_pipeline.visibility_expires(porto)
    (again,) = queue_pipeline.receive()
    assert again["messageId"] == porto["messageId"]
    retried = queue_pipeline.invoke_and_settle([again])
    assert retried["batchItemFailures"] == []
    assert [(r["key"], r["outcome"]) for r in retried["results"]] == [(PORTO_KEY, "published")]
    assert queue_pipeline.receive() == []


def test_the_documented_partial_batch_reports_only_the_command_cut_short(
    queue_pipeline: QueuePipeline,
) -> None:
    event = load_event("rebuild-queue-partial.json")
    _, broken, _ = event["Records"]
    answer = queue_pipeline.deliver(event)
    assert answer["batchItemFailures"] == [{"itemIdentifier": broken["messageId"]}]
    assert [step["step"] for step in answer["rebuild"]] == ["list-posts", "index-pages"]


def test_a_batch_whose_every_message_fails_fails_the_invocation(
    queue_pipeline: QueuePipeline,
) -> None:
    broken = load_event("rebuild-queue-partial.json")["Records"][1]
    with pytest.raises(Exception, match="All records failed"):
        queue_pipeline.deliver({"Records": [broken, {**broken, "messageId": "second"}]})


def test_a_direct_s3_event_still_raises_for_lambdas_async_retry(
    queue_pipeline: QueuePipeline,
) -> None:
    event = queue_pipeline.put(LISBON_KEY, hexo_post("Lisbon"), deliver=False)
    faults = FaultInjector({"s3": service.runtime().s3})
    faults.inject(FaultPlan("s3.GetObject", [S3_ACCESS_DENIED], url_contains("lisbon")))
    try:
        with pytest.raises(Exception, match="AccessDenied"):
            queue_pipeline.deliver(event)
    finally:
        faults.remove_all()


def unreadable_listing(pipeline: Pipeline) -> None:
    """A registry item of a list kind this release does not know (written by a newer one)."""
    pipeline.dynamodb.put_item(
        TableName=TABLE,
        Item=to_item({keys.PK: keys.registry_pk("series"), keys.SK: "series:iberia", COUNT: 1}),
    )


def test_an_unreadable_stream_record_is_reported_and_the_rest_of_the_batch_is_built(
    pipeline: Pipeline,
) -> None:
    pipeline.put(LISBON_KEY, hexo_post("Lisbon", categories=["Travel"]))
    unreadable_listing(pipeline)
    pipeline.put(PORTO_KEY, hexo_post("Porto", categories=["Travel"]))
    records = list(pipeline.stream_records())
    bad = next(
        r for r in records if r["dynamodb"]["Keys"][keys.PK]["S"] == keys.registry_pk("series")
    )
    bad_sequence = bad["dynamodb"]["SequenceNumber"]
    assert records.index(bad) not in (0, len(records) - 1)

    answer = service.build_indexes_event({"Records": records})

    assert answer["batchItemFailures"] == [{"itemIdentifier": bad_sequence}]
    landing = pipeline.s3.get_object(Bucket=SITE, Key="categories/Travel/index.html")
    text = landing["Body"].read().decode("utf-8")
    assert "Lisbon" in text and "Porto" in text  # records before and after the bad one
    # Lambda resumes the shard at the reported record: it and those after come back.
    result = InvocationResult(payload=answer, error=None, duration_ms=1.0, request_id="r")
    resumed = records[first_failed_index(records, result) or 0 :]
    assert resumed[0] is bad
    again = service.build_indexes_event({"Records": resumed})
    assert again["batchItemFailures"] == [{"itemIdentifier": bad_sequence}]
    assert again["pages_written"] == []  # the table has not moved: nothing to rewrite


def test_a_stream_batch_of_readable_records_reports_no_failure(pipeline: Pipeline) -> None:
    pipeline.put(LISBON_KEY, hexo_post("Lisbon", categories=["Travel"]))
    (report,) = pipeline.build()
    assert report["batchItemFailures"] == []
    assert report["pages_written"]
