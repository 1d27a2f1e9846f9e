"""A DynamoDB Streams event source mapping: poll the shard, batch, invoke, retry, bisect.

One shard is processed in order; a batch is checkpointed only when it succeeded, was
partly reported as failed (the failed tail is retried), or went to the OnFailure queue.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from blogpub.dates import event_time
from blogpub_local.delivery import utc_timestamp
from blogpub_local.lambda_runtime import InvocationResult, LocalFunction
from blogpub_local.poller import Activity, Poller
from blogpub_local.template import StreamEventSource

# AWS retries a failing stream batch until its records expire (24 h) when
# MaximumRetryAttempts is -1; locally that would hang the stack, so it is capped.
LOCAL_UNBOUNDED_RETRIES = 5
POLL_INTERVAL_SECONDS = 0.05
RETRY_DELAY_SECONDS = 0.1
# Lambda's invocation payload limit: a batch is cut below BatchSize when its records reach it.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
EVENT_ENVELOPE_BYTES = len(json.dumps({"Records": []}))

StreamRecord = dict[str, Any]
FailureSender = Callable[[str, dict[str, Any]], None]


def _json_attribute(value: Any) -> Any:
    """A DynamoDB-JSON attribute made JSON-safe: binary values base64, as Lambda sends them."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {key: _json_attribute(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_json_attribute(item) for item in value]
    return value


def lambda_stream_record(raw: Mapping[str, Any], stream_arn: str, region: str) -> StreamRecord:
    """A GetRecords record in the shape Lambda hands to a DynamoDB-stream function."""
    change = raw["dynamodb"]
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        created = int(created.timestamp())
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": created, "Keys": change["Keys"]}
    for image in ("NewImage", "OldImage"):
        if image in change:
            dynamodb[image] = change[image]
    dynamodb["SequenceNumber"] = change["SequenceNumber"]
    dynamodb["SizeBytes"] = change.get("SizeBytes", 0)
    dynamodb["StreamViewType"] = change.get("StreamViewType", "NEW_AND_OLD_IMAGES")
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": _json_attribute(dynamodb),
        "eventSourceARN": stream_arn,
    }


def record_bytes(record: StreamRecord) -> int:
    """What the record adds to the event Lambda sends (its JSON and a separator)."""
    return len(json.dumps(record)) + 2


def within_payload_limit(sizes: Sequence[int], limit: int = MAX_PAYLOAD_BYTES) -> int:
    """How many of the leading records, of these ``record_bytes``, fit in one invocation (at
    least one, as Lambda sends a record on its own rather than never)."""
    total = EVENT_ENVELOPE_BYTES
    for count, size in enumerate(sizes):
        total += size
        if total > limit:
            return max(1, count)
    return len(sizes)


def first_failed_index(records: Sequence[StreamRecord], result: InvocationResult) -> int | None:
    """Where the batch failed: 0 for an error, the first reported item, or None on success.

    An answer Lambda cannot read (unknown or empty itemIdentifier) fails the whole batch.
    """
    if result.failed:
        return 0
    payload = result.payload if isinstance(result.payload, dict) else {}
    failures = payload.get("batchItemFailures") or []
    if not failures:
        return None
    sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in sequence_numbers:
            return 0
        indexes.append(sequence_numbers.index(identifier))
    return min(indexes)


def stream_failure_record(
    function: LocalFunction,
    records: Sequence[StreamRecord],
    result: InvocationResult,
    *,
    invoke_count: int,
    shard_id: str,
    stream_arn: str,
) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's OnFailure destination (metadata, no records)."""

    def arrival(record: StreamRecord) -> str:
        created = record["dynamodb"].get("ApproximateCreationDateTime") or 0
        return event_time(datetime.fromtimestamp(float(created), UTC))

    return {
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": function.arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled" if result.failed else "",
        },
        "version": "1.0",
        "timestamp": utc_timestamp(),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


class StreamPoller(Poller):
    """Polls one table stream and feeds one function, honouring the mapping's settings."""

    def __init__(
        self,
        function: LocalFunction,
        source: StreamEventSource,
        streams_client: Any,
        send_failure: FailureSender,
        *,
        region: str,
        max_batching_window_seconds: float = 0.2,
        activity: Activity | None = None,
    ) -> None:
        super().__init__(
            thread_name="stream-poller",
            poll_interval_seconds=POLL_INTERVAL_SECONDS,
            activity=activity,
        )
        self.function = function
        self.source = source
        self.client = streams_client
        self.send_failure = send_failure
        self.region = region
        # MaximumBatchingWindowInSeconds is kept small locally: a test waits on every batch.
        self.window_seconds = min(source.batching_window_seconds, max_batching_window_seconds)
        self.results: list[InvocationResult] = []
        self.abandoned_batches: list[dict[str, Any]] = []  # what went to OnFailure
        self.filtered_out = 0  # records FilterCriteria dropped before batching
        self._lock = threading.Lock()  # guards the iterator between the poll loop and has_pending
        self._shard_id = ""
        self._iterator: str | None = None
        # Records read past the payload limit of the last batch: the next batch starts with them.
        self._carried: list[tuple[StreamRecord, int]] = []

    @property
    def retry_limit(self) -> int:
        limit = self.source.maximum_retry_attempts
        return LOCAL_UNBOUNDED_RETRIES if limit < 0 else limit

    def start(self) -> None:
        description = self.client.describe_stream(StreamArn=self.source.stream_arn)
        shard = description["StreamDescription"]["Shards"][0]
        self._shard_id = shard["ShardId"]
        iterator_type = "LATEST" if self.source.starting_position == "LATEST" else "TRIM_HORIZON"
        self._iterator = self.client.get_shard_iterator(
            StreamArn=self.source.stream_arn,
            ShardId=self._shard_id,
            ShardIteratorType=iterator_type,
        )["ShardIterator"]
        super().start()

    def _source_has_pending(self) -> bool:
        """Whether records wait in the shard past the last checkpoint (a fresh poll)."""
        with self._lock:
            if self._carried:
                return True
            if self._iterator is None:
                return False
            response = self.client.get_records(ShardIterator=self._iterator, Limit=1)
            return bool(response.get("Records"))

    def _fetch(self, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        with self._lock:
            assert self._iterator is not None
            response = self.client.get_records(ShardIterator=self._iterator, Limit=limit)
            return response.get("Records", []), response.get("NextShardIterator")

    def _converted(self, raw_records: Sequence[dict[str, Any]]) -> list[tuple[StreamRecord, int]]:
        """The records as Lambda hands them over, less those the mapping's FilterCriteria
        drops (Lambda discards them before batching: they never reach the function)."""
        records = [
            lambda_stream_record(raw, self.source.stream_arn, self.region) for raw in raw_records
        ]
        kept = [record for record in records if self.source.filter_criteria.accepts(record)]
        self.filtered_out += len(records) - len(kept)
        return [(record, record_bytes(record)) for record in kept]

    def _poll_once(self) -> bool:
        """One batch: up to BatchSize records gathered for up to the window, cut where the
        payload would pass Lambda's 6 MB (the rest opens the next batch)."""
        with self._lock:
            taken, self._carried = self._carried, []
        wanted = self.source.batch_size - len(taken)
        raw_records, next_iterator = self._fetch(wanted) if wanted > 0 else ([], self._iterator)
        taken += self._converted(raw_records)
        if not taken:
            if raw_records:  # all of them filtered out: the checkpoint moves past them
                with self._lock:
                    self._iterator = next_iterator
            return bool(raw_records)
        payload = EVENT_ENVELOPE_BYTES + sum(size for _, size in taken)
        deadline = time.monotonic() + self.window_seconds
        while (
            len(taken) < self.source.batch_size
            and payload < MAX_PAYLOAD_BYTES
            and time.monotonic() < deadline
        ):
            time.sleep(POLL_INTERVAL_SECONDS)
            with self._lock:
                response = self.client.get_records(
                    ShardIterator=next_iterator, Limit=self.source.batch_size - len(taken)
                )
            if response.get("Records"):
                more = self._converted(response["Records"])
                taken += more
                payload += sum(size for _, size in more)
                next_iterator = response.get("NextShardIterator")
        fitting = within_payload_limit([size for _, size in taken])
        with self._lock:
            self._carried = taken[fitting:]
        self._deliver([record for record, _ in taken[:fitting]])
        with self._lock:
            self._iterator = next_iterator
        return True

    def _deliver(self, records: list[StreamRecord]) -> None:
        """Invoke until the batch succeeds, is bisected away, or goes to the failure queue."""
        retries = 0
        while records and not self._stop.is_set():
            result = self.function.invoke({"Records": records})
            self.results.append(result)
            failed_at = first_failed_index(records, result)
            if failed_at is None:
                return
            records = records[failed_at:]  # what came before the failure is checkpointed
            if self.source.bisect_on_error and len(records) > 1:
                middle = len(records) // 2
                self._deliver(records[:middle])
                self._deliver(records[middle:])
                return
            if retries >= self.retry_limit:
                self._give_up(records, result, retries + 1)
                return
            retries += 1
            time.sleep(RETRY_DELAY_SECONDS)

    def _give_up(self, records: list[StreamRecord], result: InvocationResult, count: int) -> None:
        record = stream_failure_record(
            self.function,
            records,
            result,
            invoke_count=count,
            shard_id=self._shard_id,
            stream_arn=self.source.stream_arn,
        )
        error = result.payload.get("errorMessage") if isinstance(result.payload, dict) else None
        self.abandoned_batches.append(record | {"errorMessage": str(error or "item failures")})
        if self.source.on_failure_arn:
            self.send_failure(self.source.on_failure_arn, record)


class TableStream:
    """A table's stream read from its start, shard by shard, as records arrive (tests, bench).

    ``streams`` is a dynamodbstreams client; each ``records()`` call yields what is new.
    """

    def __init__(self, dynamodb: Any, streams: Any, table: str) -> None:
        self._streams = streams
        arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self._iterators = [
            streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for shard in shards
        ]

    def records(self) -> Iterator[dict[str, Any]]:
        for index in range(len(self._iterators)):
            while True:
                response = self._streams.get_records(ShardIterator=self._iterators[index])
                self._iterators[index] = response["NextShardIterator"]
                if not response["Records"]:
                    break
                yield from (dict(record) for record in response["Records"])
