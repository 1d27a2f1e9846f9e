"""Lambda's record shapes for table streams and SQS, and how answers decide retries."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from blogpub import keys
from blogpub_local.lambda_runtime import (
    EnvironmentGate,
    InvocationResult,
    LocalFunction,
    error_payload,
    shared_variables,
)
from blogpub_local.sqs_poller import lambda_sqs_record, succeeded_messages
from blogpub_local.stream_poller import (
    MAX_PAYLOAD_BYTES,
    StreamPoller,
    encoded_stream_record,
    event_json,
    first_failed_index,
    lambda_stream_record,
    stream_failure_record,
)
from blogpub_local.template import FunctionSpec, StreamEventSource

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024"


def _raw_stream_record(sequence: str) -> dict[str, Any]:
    """A record as boto3's GetRecords returns it (datetime, bytes)."""
    return {
        "eventID": "e" + sequence,
        "eventName": "MODIFY",
        "eventVersion": "1.0",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2024, 1, 1, tzinfo=UTC),
            "Keys": {keys.PK: {"S": keys.post_pk("a")}, keys.SK: {"S": keys.POST_SK}},
            "NewImage": {keys.PK: {"S": keys.post_pk("a")}, "blob": {"B": b"\x00\x01"}},
            "OldImage": {keys.PK: {"S": keys.post_pk("a")}},
            "SequenceNumber": sequence,
            "SizeBytes": 42,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def test_stream_record_has_lambdas_shape() -> None:
    record = lambda_stream_record(_raw_stream_record("100"), STREAM_ARN, "eu-west-1")
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == STREAM_ARN
    change = record["dynamodb"]
    assert change["ApproximateCreationDateTime"] == 1704067200
    assert change["NewImage"]["blob"] == {"B": "AAE="}  # base64, as in Lambda's JSON
    assert set(change) == {
        "ApproximateCreationDateTime",
        "Keys",
        "NewImage",
        "OldImage",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    }


def test_the_poller_sends_each_record_as_lambda_stream_record_writes_it() -> None:
    raw = [_raw_stream_record(sequence) for sequence in ("100", "101")]
    raw[1]["dynamodb"]["NewImage"]["set"] = {"BS": {b"\xff"}, "SS": ("a",)}
    encoded = [encoded_stream_record(record, STREAM_ARN, "eu-west-1") for record in raw]
    expected = [lambda_stream_record(record, STREAM_ARN, "eu-west-1") for record in raw]
    assert [json.loads(text) for _, text in encoded] == expected
    assert json.loads(encoded[0][1])["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
    assert [record["dynamodb"]["SequenceNumber"] for record, _ in encoded] == ["100", "101"]
    # the event's text is json.dumps' own, so its length is the payload Lambda counts
    assert event_json(encoded) == json.dumps({"Records": expected})


def test_an_event_given_as_json_reaches_the_handler_parsed() -> None:
    seen: list[Any] = []
    function = _function()
    function._handler = lambda event, context: seen.append(event) or {"ok": True}
    result = function.invoke_json('{"Records": [{"a": 1}]}')
    assert seen == [{"Records": [{"a": 1}]}] and result.payload == {"ok": True}
    assert result.event_bytes == len('{"Records": [{"a": 1}]}')


def _result(payload: Any, error: BaseException | None = None) -> InvocationResult:
    return InvocationResult(payload=payload, error=error, duration_ms=1.0, request_id="r")


def test_item_failures_point_at_the_first_failed_record() -> None:
    records = [lambda_stream_record(_raw_stream_record(s), STREAM_ARN, "us-east-1") for s in "123"]
    assert first_failed_index(records, _result({"batchItemFailures": []})) is None
    failures = {"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}
    assert first_failed_index(records, _result(failures)) == 1
    unknown = {"batchItemFailures": [{"itemIdentifier": "nope"}]}
    assert first_failed_index(records, _result(unknown)) == 0
    assert first_failed_index(records, _result({}, RuntimeError("x"))) == 0


def _function() -> LocalFunction:
    spec = FunctionSpec(
        logical_id="F",
        function_name="f",
        handler="app.h",
        code_dir=Path("."),
        runtime="python3.13",
        timeout_seconds=3,
        memory_mb=128,
        environment={},
        layers=(),
        event_sources=(),
    )
    return LocalFunction(
        spec,
        EnvironmentGate(),
        region="us-east-1",
        account_id="123456789012",
        handler=lambda event, context: event,
    )


class ShardOfLargeRecords:
    """GetRecords over a fixed shard; the iterator is the position as text."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
        start = int(ShardIterator)
        found = self.records[start : start + Limit]
        return {"Records": found, "NextShardIterator": str(start + len(found))}


def test_a_stream_batch_stops_at_lambdas_payload_limit_and_the_rest_opens_the_next() -> None:
    body = "x" * 300_000  # each record about 300 KB: 30 of them pass 6 MB
    raw = []
    for position in range(30):
        record = _raw_stream_record(str(1000 + position))
        record["dynamodb"]["NewImage"] = {"body": {"S": body}}
        raw.append(record)
    batches: list[dict[str, Any]] = []
    function = _function()
    function._handler = lambda event, context: batches.append(event)
    poller = StreamPoller(
        function,
        StreamEventSource(STREAM_ARN, batch_size=10_000),
        ShardOfLargeRecords(raw),
        lambda arn, record: None,
        region="us-east-1",
        max_batching_window_seconds=0.0,
    )
    poller._iterator = "0"
    assert poller._poll_once()
    assert len(json.dumps(batches[0])) <= MAX_PAYLOAD_BYTES < len(json.dumps(raw, default=str))
    assert poller.has_pending()  # the records past the limit wait for the next batch
    assert poller._poll_once()
    assert not poller.has_pending()
    assert not poller._poll_once()
    delivered = [r["dynamodb"]["SequenceNumber"] for batch in batches for r in batch["Records"]]
    assert delivered == [str(1000 + position) for position in range(30)]
    assert [len(batch["Records"]) for batch in batches] == [20, 10]


def test_stream_failure_record_describes_the_batch() -> None:
    records = [lambda_stream_record(_raw_stream_record(s), STREAM_ARN, "us-east-1") for s in "12"]
    record = stream_failure_record(
        _function(),
        records,
        _result({}, RuntimeError("x")),
        invoke_count=3,
        shard_id="shard-1",
        stream_arn=STREAM_ARN,
    )
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    info = record["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "1",
        "2",
        2,
    )


def test_sqs_record_and_partial_batch_deletion() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "h1",
        "Body": "{}",
        "MD5OfBody": "x",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "5"},
    }
    record = lambda_sqs_record(message, "arn:aws:sqs:us-east-1:1:q", "us-east-1")
    assert record["eventSource"] == "aws:sqs"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    other = lambda_sqs_record({**message, "MessageId": "m2"}, "arn", "us-east-1")
    partial = _result({"batchItemFailures": [{"itemIdentifier": "m2"}]})
    assert [r["messageId"] for r in succeeded_messages([record, other], partial, True)] == ["m1"]
    assert succeeded_messages([record, other], _result({}, RuntimeError()), True) == []


def test_invocation_errors_take_lambdas_error_shape() -> None:
    def failing(event: Any, context: Any) -> None:
        raise ValueError("bad input")

    function = _function()
    function._handler = failing
    result = function.invoke({"a": 1})
    assert result.failed
    assert result.payload["errorType"] == "ValueError"
    assert result.payload["errorMessage"] == "bad input"
    assert result.payload["stackTrace"]
    assert error_payload(KeyError("k"))["errorType"] == "KeyError"


def test_context_and_json_round_trip_of_the_event() -> None:
    seen: dict[str, Any] = {}

    def handler(event: Any, context: Any) -> dict[str, Any]:
        seen["remaining"] = context.get_remaining_time_in_millis()
        seen["arn"] = context.invoked_function_arn
        return {"when": datetime(2024, 1, 1, tzinfo=UTC)}

    function = _function()
    function._handler = handler
    result = function.invoke({"x": (1, 2)})
    assert 0 < seen["remaining"] <= 3000
    assert seen["arn"].endswith(":function:f")
    assert result.payload == {"when": "2024-01-01 00:00:00+00:00"}


def test_only_agreed_variables_are_shared_by_the_process() -> None:
    shared = shared_variables([{"A": "1", "S": "x"}, {"A": "1", "S": "y", "B": "2"}])
    assert shared == {"A": "1", "B": "2"}


def test_each_local_function_logs_under_its_own_service_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One process runs every function locally; each invocation logs its function's name."""
    from aws_lambda_powertools import Logger

    logger = Logger(service="made-at-import")  # as a handler module's logger is

    def handler(event: Any, context: Any) -> None:
        logger.info("hello")

    def function(service: str) -> LocalFunction:
        spec = replace(_function().spec, environment={"POWERTOOLS_SERVICE_NAME": service})
        return LocalFunction(
            spec, EnvironmentGate(), region="us-east-1", account_id="1", handler=handler
        )

    function("render-post").invoke({})
    function("build-indexes").invoke({})
    logger.info("outside")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["service"] for line in lines] == ["render-post", "build-indexes", "made-at-import"]


def test_a_poller_keeps_polling_after_a_failed_poll() -> None:
    """As Lambda's event source mappings do: a failed read is retried, the thread lives on."""
    from blogpub_local.poller import Poller

    class Flaky(Poller):
        def __init__(self) -> None:
            super().__init__(thread_name="flaky", poll_interval_seconds=0.001)
            self.polls = 0

        def _source_has_pending(self) -> bool:
            return self.polls < 5

        def _poll_once(self) -> bool:
            self.polls += 1
            if self.polls <= 2:
                raise RuntimeError("500 Internal Server Error")
            return self.polls < 5

    poller = Flaky()
    poller.start()
    deadline = time.monotonic() + 10
    while poller.has_pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    alive = poller._thread.is_alive()
    poller.stop()

    assert poller.polls >= 5
    assert alive


class EmptySource:
    """A poller's source with nothing in it until ``fill``; counts what the poller delivers."""

    def __init__(self) -> None:
        self.waiting = 0
        self.delivered = threading.Event()

    def fill(self) -> None:
        self.waiting = 1


def idle_poller(source: EmptySource, activity: Any) -> Any:
    from blogpub_local.poller import Poller

    class Idle(Poller):
        def _source_has_pending(self) -> bool:
            return bool(source.waiting)

        def _poll_once(self) -> bool:
            if not source.waiting:
                return False
            source.waiting = 0
            source.delivered.set()
            return True

    return Idle(thread_name="idle", poll_interval_seconds=0.05, activity=activity)


def test_an_idle_poller_rests_longer_after_each_empty_poll() -> None:
    """Issue 17: no poll every 50 ms for as long as `local up` runs."""
    from blogpub_local.poller import IDLE_REST_CAP_SECONDS, Activity

    poller = idle_poller(EmptySource(), Activity())
    poller.start()
    time.sleep(3.2)
    poller.stop()

    # Rests of 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, then the cap: about 7 polls, not 64.
    assert poller.poll_count <= 9
    assert IDLE_REST_CAP_SECONDS <= 2.0


def test_a_write_announced_by_the_stack_wakes_an_idle_poller_at_once() -> None:
    from blogpub_local.poller import IDLE_REST_CAP_SECONDS, Activity

    activity, source = Activity(), EmptySource()
    poller = idle_poller(source, activity)
    poller.start()
    time.sleep(3.2)  # resting at the cap by now
    source.fill()
    activity.notify()

    woke = source.delivered.wait(timeout=IDLE_REST_CAP_SECONDS / 2)
    poller.stop()

    assert woke
    assert not poller._thread.is_alive()


def test_a_stream_mappings_batching_window_is_cut_locally_unless_asked_as_deployed() -> None:
    source = StreamEventSource(STREAM_ARN, batch_size=10_000, batching_window_seconds=2.0)

    def poller(**cap: float | None) -> StreamPoller:
        shard = ShardOfLargeRecords([])
        send = lambda arn, record: None  # noqa: E731
        return StreamPoller(_function(), source, shard, send, region="us-east-1", **cap)

    assert poller().window_seconds == 0.2  # tests and edits wait no 2 s a batch
    assert poller(max_batching_window_seconds=None).window_seconds == 2.0  # as deployed
    assert poller(max_batching_window_seconds=5.0).window_seconds == 2.0  # never longer
