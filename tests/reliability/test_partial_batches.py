"""Partial batch failures on the local stack: the event source mappings honour what the
real functions report, as Lambda does. On the stack's own moto, with its own pollers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from blogpub import keys
from blogpub.table import COUNT, to_item
from blogpub_local.stack import LocalStack

from tests.conftest import load_event
from tests.e2e.conftest import local_stack, s3_client
from tests.reliability.posts import hexo_post

pytestmark = pytest.mark.e2e

POST_KEY = "_posts/garden/tomatoes.md"
POST = hexo_post("Tomatoes, at last", "2024-08-09 10:00:00", categories=["Garden"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory, "partial-batches") as running:
        yield running


def queue_counts(stack: LocalStack, logical_id: str) -> tuple[int, int]:
    """(visible, in flight) messages of one of the stack's queues."""
    attributes = stack.clients["sqs"].get_queue_attributes(
        QueueUrl=stack.created.queue_urls[logical_id],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_only_the_failed_rebuild_message_stays_in_the_queue(stack: LocalStack) -> None:
    (poller,) = stack.sqs_pollers  # RebuildQueue -> RenderPostFunction
    queue_url = stack.created.queue_urls["RebuildQueue"]
    documented = load_event("rebuild-queue-partial.json")["Records"]
    bodies = [record["body"] for record in documented]
    before = len(poller.results)
    stack.clients["sqs"].send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)],
    )
    try:
        wait_for(lambda: queue_counts(stack, "RebuildQueue") == (0, 1))
        answers = [r.payload for r in poller.results[before:]]
        reported = [f for answer in answers for f in answer.get("batchItemFailures", [])]
        assert len(reported) == 1  # the command cut short, and it alone
        assert all(not r.failed for r in poller.results[before:])
        done = [step["step"] for answer in answers for step in answer["rebuild"]]
        assert sorted(done) == ["index-pages", "list-posts"]  # each ran once: not retried
    finally:
        stack.clients["sqs"].purge_queue(QueueUrl=queue_url)


def test_an_unreadable_stream_record_is_reported_and_the_shard_goes_on_past_it(
    stack: LocalStack,
) -> None:
    assert stack.info is not None
    (poller,) = stack.stream_pollers
    before = len(poller.results)
    # One request, so one stream batch: a registry item of a list kind this release does
    # not know (as a newer release would write it) between two items it ignores.
    items = [
        {"pk": {"S": "TEST#before"}, "sk": {"S": "1"}},
        to_item({keys.PK: keys.registry_pk("series"), keys.SK: "series:garden", COUNT: 1}),
        {"pk": {"S": "TEST#after"}, "sk": {"S": "1"}},
    ]
    stack.clients["dynamodb"].batch_write_item(
        RequestItems={stack.info.table: [{"PutRequest": {"Item": item}} for item in items]}
    )
    s3_client(stack).put_object(Bucket=stack.info.source_bucket, Key=POST_KEY, Body=POST.encode())
    assert stack.wait_until_idle(180)

    (abandoned,) = poller.abandoned_batches
    info = abandoned["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1  # set aside alone; the records around it were built
    answers = [r.payload for r in poller.results[before:] if not r.failed]
    reported = [f["itemIdentifier"] for answer in answers for f in answer["batchItemFailures"]]
    assert reported, "a batch holding the record and others reported it, and it alone"
    assert set(reported) == {info["startSequenceNumber"]}
    (dead,) = stack.clients["sqs"].receive_message(
        QueueUrl=stack.created.queue_urls["IndexDeadLetterQueue"], VisibilityTimeout=0
    )["Messages"]
    assert json.loads(dead["Body"])["DDBStreamBatchInfo"] == info
    page = s3_client(stack).get_object(
        Bucket=stack.info.site_bucket, Key="categories/Garden/index.html"
    )
    assert "Tomatoes, at last" in page["Body"].read().decode("utf-8")
