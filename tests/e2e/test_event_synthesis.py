"""Events the local stack delivers, checked against S3, DynamoDB Streams and SQS themselves."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

import pytest
from blogpub.keys import PAGE_STATE_SK, page_state_pk

from tests.e2e.conftest import RecordingStack, s3_client

pytestmark = pytest.mark.e2e


def _records_for(recording: RecordingStack, key: str) -> list[dict[str, Any]]:
    """The key's records in event order: delivery is asynchronous, so arrival order is not."""
    records = [
        r for r in recording.render.records() if unquote_plus(r["s3"]["object"]["key"]) == key
    ]
    return sorted(records, key=lambda r: int(r["s3"]["object"]["sequencer"], 16))


def test_put_copy_and_deletes_arrive_in_aws_shape(recording_stack: RecordingStack) -> None:
    stack = recording_stack.stack
    assert stack.info is not None
    bucket = stack.info.source_bucket
    s3 = s3_client(stack)
    key = "_posts/新 年/a b+c.md"
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"---\ntitle: x\n---\nbody\n")
    s3.copy_object(
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": key, "VersionId": put["VersionId"]},
    )
    marker = s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_object(Bucket=bucket, Key=key, VersionId=put["VersionId"])
    assert stack.wait_until_idle(30)

    records = _records_for(recording_stack, key)
    assert [r["eventName"] for r in records] == [
        "ObjectCreated:Put",
        "ObjectCreated:Copy",
        "ObjectRemoved:DeleteMarkerCreated",
        "ObjectRemoved:Delete",
    ]
    assert {r["eventVersion"] for r in records} == {"2.1"}
    assert {r["eventSource"] for r in records} == {"aws:s3"}
    assert {r["s3"]["bucket"]["name"] for r in records} == {bucket}
    assert records[0]["s3"]["object"]["key"] == "_posts/%E6%96%B0+%E5%B9%B4/a+b%2Bc.md"
    sequencers = [int(r["s3"]["object"]["sequencer"], 16) for r in records]
    assert len(set(sequencers)) == len(sequencers)

    created = records[0]["s3"]["object"]
    assert created["versionId"] == put["VersionId"]
    assert created["eTag"] == put["ETag"].strip('"')
    assert created["size"] == len(b"---\ntitle: x\n---\nbody\n")
    copied = records[1]["s3"]["object"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
    assert copied["versionId"] in {v["VersionId"] for v in versions.get("Versions", [])}
    assert records[2]["s3"]["object"]["versionId"] == marker["VersionId"]
    assert "size" not in records[2]["s3"]["object"]
    assert records[3]["s3"]["object"]["versionId"] == put["VersionId"]


def test_the_template_sends_every_source_key_to_the_render_function(
    recording_stack: RecordingStack,
) -> None:
    # The bucket is Hexo's source/ folder: blogpub.sources, not an S3 filter, decides.
    stack = recording_stack.stack
    assert stack.info is not None
    s3 = s3_client(stack)
    for key in ("images/x.png", "about/index.md", "_config.yml"):
        s3.put_object(Bucket=stack.info.source_bucket, Key=key, Body=b"x")
    assert stack.wait_until_idle(30)
    keys = {unquote_plus(r["s3"]["object"]["key"]) for r in recording_stack.render.records()}
    assert {"images/x.png", "about/index.md", "_config.yml"} <= keys


def test_batch_delete_produces_one_event_per_object(recording_stack: RecordingStack) -> None:
    stack = recording_stack.stack
    assert stack.info is not None
    s3 = s3_client(stack)
    keys = ["_posts/batch-1.md", "_posts/batch-2.md"]
    for key in keys:
        s3.put_object(Bucket=stack.info.source_bucket, Key=key, Body=b"x")
    s3.delete_objects(
        Bucket=stack.info.source_bucket, Delete={"Objects": [{"Key": k} for k in keys]}
    )
    assert stack.wait_until_idle(30)
    for key in keys:
        names = [r["eventName"] for r in _records_for(recording_stack, key)]
        assert names == ["ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated"]


def test_failed_async_invocation_is_retried_then_dead_lettered(
    recording_stack: RecordingStack,
) -> None:
    stack = recording_stack.stack
    assert stack.info is not None
    render = recording_stack.render
    spec = stack.functions["RenderPostFunction"].spec
    before = len(render.events)
    render.fail_with = RuntimeError("render exploded")
    try:
        s3_client(stack).put_object(
            Bucket=stack.info.source_bucket, Key="_posts/boom.md", Body=b"x"
        )
        assert stack.wait_until_idle(30)
    finally:
        render.fail_with = None
    assert len(render.events) - before == 1 + spec.async_retry_attempts
    assert spec.async_on_failure_arn is not None
    queue_url = stack.created.queue_urls_by_arn[spec.async_on_failure_arn]
    sqs = stack.clients["sqs"]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    destination = json.loads(messages[0]["Body"])
    assert destination["requestContext"]["condition"] == "RetriesExhausted"
    assert destination["requestContext"]["approximateInvokeCount"] == 1 + spec.async_retry_attempts
    assert destination["responseContext"]["functionError"] == "Unhandled"
    assert destination["responsePayload"]["errorMessage"] == "render exploded"
    assert destination["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "_posts/boom.md"


def test_table_changes_reach_the_index_function_as_a_stream_batch(
    recording_stack: RecordingStack,
) -> None:
    stack = recording_stack.stack
    assert stack.info is not None
    table = stack.clients["dynamodb"]
    item = {"pk": {"S": "TEST#stream"}, "sk": {"S": "1"}, "blob": {"B": b"\x00\xff"}}
    table.put_item(TableName=stack.info.table, Item=item)
    table.delete_item(TableName=stack.info.table, Key={"pk": item["pk"], "sk": item["sk"]})
    assert stack.wait_until_idle(30)
    records = [
        r
        for r in recording_stack.indexes.records()
        if r["dynamodb"]["Keys"]["pk"]["S"] == "TEST#stream"
    ]
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
    first = records[0]
    assert (first["eventVersion"], first["eventSource"]) == ("1.1", "aws:dynamodb")
    assert first["eventSourceARN"] == stack.resolver.attributes[("Table", "StreamArn")]
    assert first["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert "OldImage" in records[1]["dynamodb"] and "NewImage" not in records[1]["dynamodb"]
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence)


def test_reported_item_failure_is_retried_from_that_record(recording_stack: RecordingStack) -> None:
    stack = recording_stack.stack
    assert stack.info is not None
    indexes = recording_stack.indexes
    failing_once: set[str] = set()

    def fail_first_delivery(event: dict[str, Any]) -> dict[str, Any]:
        for record in event["Records"]:
            sequence = record["dynamodb"]["SequenceNumber"]
            if (
                record["dynamodb"]["Keys"]["pk"]["S"] == "TEST#partial"
                and sequence not in failing_once
            ):
                failing_once.add(sequence)
                return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        return {"batchItemFailures": []}

    indexes.answer = fail_first_delivery
    try:
        stack.clients["dynamodb"].put_item(
            TableName=stack.info.table, Item={"pk": {"S": "TEST#partial"}, "sk": {"S": "1"}}
        )
        assert stack.wait_until_idle(30)
    finally:
        indexes.answer = lambda event: {"batchItemFailures": []}
    deliveries = [
        r for r in indexes.records() if r["dynamodb"]["Keys"]["pk"]["S"] == "TEST#partial"
    ]
    assert len(deliveries) == 2  # reported once as failed, then delivered again
    assert deliveries[0]["eventID"] == deliveries[1]["eventID"]


def test_rebuild_queue_messages_reach_render_as_an_sqs_batch(
    recording_stack: RecordingStack,
) -> None:
    stack = recording_stack.stack
    queue_url = stack.created.queue_urls["RebuildQueue"]
    stack.clients["sqs"].send_message(QueueUrl=queue_url, MessageBody='{"rebuild": "_posts/a.md"}')
    assert stack.wait_until_idle(30)
    sqs_records = [r for r in recording_stack.render.records() if r.get("eventSource") == "aws:sqs"]
    assert sqs_records[-1]["body"] == '{"rebuild": "_posts/a.md"}'
    assert sqs_records[-1]["eventSourceARN"] == stack.resolver.attributes[("RebuildQueue", "Arn")]
    attributes = stack.clients["sqs"].get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"  # deleted after success


def test_the_index_builders_page_states_start_no_batch(recording_stack: RecordingStack) -> None:
    # template.yaml's FilterCriteria, run by the local stream mapping as Lambda runs it: the
    # records of page states (sort key PAGE) are dropped before batching, the rest delivered.
    stack = recording_stack.stack
    assert stack.info is not None
    table = stack.clients["dynamodb"]
    page_state = {"pk": {"S": page_state_pk("/filtered/")}, "sk": {"S": PAGE_STATE_SK}}
    table.put_item(TableName=stack.info.table, Item=page_state)
    assert stack.wait_until_idle(30)
    seen_before = len(recording_stack.indexes.records())
    table.put_item(TableName=stack.info.table, Item=page_state | {"etag": {"S": "x"}})
    table.delete_item(TableName=stack.info.table, Key=page_state)
    assert stack.wait_until_idle(30)
    assert len(recording_stack.indexes.records()) == seen_before  # no batch, no record

    other = {"pk": {"S": page_state_pk("/filtered/")}, "sk": {"S": "NOT-A-PAGE-STATE"}}
    table.put_item(TableName=stack.info.table, Item=other)
    assert stack.wait_until_idle(30)
    delivered = [r["dynamodb"]["Keys"] for r in recording_stack.indexes.records()]
    assert {"pk": other["pk"], "sk": other["sk"]} in delivered
    assert all(keys["sk"] != {"S": PAGE_STATE_SK} for keys in delivered)
    assert sum(poller.filtered_out for poller in stack.stream_pollers) >= 3
