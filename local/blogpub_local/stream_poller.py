"""A DynamoDB Streams event source mapping: poll the shard, batch, invoke, retry, bisect.

One shard is processed in order; a batch is checkpointed only when it succeeded, was
partly reported as failed (the failed tail is retried), or went to the OnFailure queue.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from blogpub.dates import event_time
from blogpub_local.delivery import utc_timestamp
from blogpub_local.event_filter import as_event_json
from blogpub_local.lambda_runtime import InvocationResult, LocalFunction
from blogpub_local.poller import Activity, Poller
from blogpub_local.template import StreamEventSource

# AWS retries a failing stream batch until its records expire (24 h) when
# MaximumRetryAttempts is -1; locally that would hang the stack, so it is capped.
LOCAL_UNBOUNDED_RETRIES = 5
POLL_INTERVAL_SECONDS = 0.05
RETRY_DELAY_SECONDS = 0.1
# A mapping's MaximumBatchingWindowInSeconds is cut to this locally (StackOptions can lift it).
MAX_LOCAL_BATCHING_WINDOW_SECONDS = 0.2
# Lambda's invocation payload limit: a batch is cut below BatchSize when its records reach it.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
EVENT_ENVELOPE_BYTES = len(json.dumps({"Records": []}))

StreamRecord = dict[str, Any]
# A record as the poller keeps it: its fields (binary values still bytes) and its JSON text.
EncodedRecord = tuple[StreamRecord, str]
FailureSender = Callable[[str, dict[str, Any]], None]


def _json_attribute(value: Any) -> Any:
    """A DynamoDB-JSON attribute made JSON-safe: binary values base64, as Lambda sends them."""
    if isinstance(value, Mapping):
        return {key: _json_attribute(item) for key, item in value.items()}
    value = as_event_json(value)
    if isinstance(value, list):
        return [_json_attribute(item) for item in value]
    return value


def _json_safe(value: Any) -> Any:
    """json.dumps' fallback for what GetRecords returns that JSON lacks: binary as base64."""
    converted = as_event_json(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return converted


def lambda_stream_record(raw: Mapping[str, Any], stream_arn: str, region: str) -> StreamRecord:
    """A GetRecords record in the shape Lambda hands to a DynamoDB-stream function."""
    record = _record_fields(raw, stream_arn, region)
    record["dynamodb"] = _json_attribute(record["dynamodb"])
    return record


def encoded_stream_record(raw: Mapping[str, Any], stream_arn: str, region: str) -> EncodedRecord:
    """The record and its JSON text as Lambda's event carries it (lambda_stream_record's, in
    one C-encoder pass instead of a Python walk over every attribute and a second dump)."""
    record = _record_fields(raw, stream_arn, region)
    return record, json.dumps(record, default=_json_safe)


def _record_fields(raw: Mapping[str, Any], stream_arn: str, region: str) -> StreamRecord:
    change = raw["dynamodb"]
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        created = int(created.timestamp())
    elif isinstance(created, float):  # the wire's epoch seconds (WireStreamReader)
        created = int(created)
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
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def event_json(records: Sequence[EncodedRecord]) -> str:
    """The event of these records, as json.dumps({"Records": [...]}) writes it."""
    return '{"Records": [' + ", ".join(text for _, text in records) + "]}"


def record_bytes(encoded: Sequence[EncodedRecord]) -> list[int]:
    """What each record adds to the event Lambda sends: its JSON text and a separator."""
    return [len(text) + 2 for _, text in encoded]


def within_payload_limit(sizes: Sequence[int], limit: int = MAX_PAYLOAD_BYTES) -> int:
    """How many of the leading records, each adding these bytes to the event (its JSON text
    and a separator), fit in one invocation (at least one, as Lambda sends a record on its
    own rather than never)."""
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


GET_RECORDS_TARGET = "DynamoDBStreams_20120810.GetRecords"


class WireStreamReader:
    """A streams client whose GetRecords answers are DynamoDB Streams' own JSON, not parsed
    by botocore: the records are already in the wire shape a Lambda event carries (binary
    values base64, times in epoch seconds), and botocore's walk over every attribute into
    bytes and datetimes, only for the poller to write them back as JSON, cost about an eighth
    of the functions' process in a bulk import. Every other call goes to ``client``, as does
    a GetRecords that is not answered 200 (so its error is botocore's own)."""

    def __init__(self, client: Any, endpoint: str, region: str, credentials: Any) -> None:
        self._client = client
        self._target = urlsplit(endpoint)
        self._region = region
        self._credentials = credentials  # botocore Credentials, signing as the client does
        self._lock = threading.Lock()  # one keep-alive connection, one request at a time
        self._connection: http.client.HTTPConnection | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_records(self, **request: Any) -> dict[str, Any]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        body = json.dumps(request)
        signed = AWSRequest(
            method="POST",
            url=self._target.geturl(),
            data=body,
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": GET_RECORDS_TARGET,
            },
        )
        SigV4Auth(self._credentials, "dynamodb", self._region).add_auth(signed)
        with self._lock:
            status, content = self._post(body, dict(signed.headers.items()))
        if status != 200:
            answer: dict[str, Any] = self._client.get_records(**request)
            return answer
        parsed: dict[str, Any] = json.loads(content)
        return parsed

    def _post(self, body: str, headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in range(2):  # a kept-alive connection the server closed: one reconnect
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self._target.hostname or "127.0.0.1", self._target.port, timeout=60
                )
            try:
                self._connection.request("POST", self._target.path or "/", body, headers)
                answer = self._connection.getresponse()
                return answer.status, answer.read()
            except (http.client.HTTPException, OSError):
                self._connection.close()
                self._connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


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
        max_batching_window_seconds: float | None = MAX_LOCAL_BATCHING_WINDOW_SECONDS,
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
        # MaximumBatchingWindowInSeconds is kept small locally unless asked (None): a test
        # waits on every batch.
        self.window_seconds = source.batching_window_seconds
        if max_batching_window_seconds is not None:
            self.window_seconds = min(self.window_seconds, max_batching_window_seconds)
        self.results: list[InvocationResult] = []
        self.abandoned_batches: list[dict[str, Any]] = []  # what went to OnFailure
        self.filtered_out = 0  # records FilterCriteria dropped before batching
        self._lock = threading.Lock()  # guards the iterator between the poll loop and has_pending
        self._shard_id = ""
        self._iterator: str | None = None
        # Records read past the payload limit of the last batch: the next batch starts with them.
        self._carried: list[EncodedRecord] = []

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

    def _converted(self, raw_records: Sequence[dict[str, Any]]) -> list[EncodedRecord]:
        """The records as Lambda hands them over, less those the mapping's FilterCriteria
        drops (Lambda discards them before batching: they never reach the function)."""
        accepts = self.source.filter_criteria.accepts
        encoded = [
            encoded_stream_record(raw, self.source.stream_arn, self.region) for raw in raw_records
        ]
        kept = [one for one in encoded if accepts(one[0])]
        self.filtered_out += len(encoded) - len(kept)
        return kept

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
        payload = EVENT_ENVELOPE_BYTES + sum(record_bytes(taken))
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
                payload += sum(record_bytes(more))
                next_iterator = response.get("NextShardIterator")
        fitting = within_payload_limit(record_bytes(taken))
        with self._lock:
            self._carried = taken[fitting:]
        self._deliver(taken[:fitting])
        with self._lock:
            self._iterator = next_iterator
        return True

    def _deliver(self, encoded: list[EncodedRecord]) -> None:
        """Invoke until the batch succeeds, is bisected away, or goes to the failure queue."""
        retries = 0
        while encoded and not self._stop.is_set():
            result = self.function.invoke_json(event_json(encoded))
            self.results.append(result)
            records = [record for record, _ in encoded]
            failed_at = first_failed_index(records, result)
            if failed_at is None:
                return
            encoded = encoded[failed_at:]  # what came before the failure is checkpointed
            if self.source.bisect_on_error and len(encoded) > 1:
                middle = len(encoded) // 2
                self._deliver(encoded[:middle])
                self._deliver(encoded[middle:])
                return
            if retries >= self.retry_limit:
                self._give_up([record for record, _ in encoded], result, retries + 1)
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
