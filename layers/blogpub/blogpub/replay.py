"""What a dead-letter message asks to be replayed (`blogpub replay`); no I/O here.

Three kinds of message reach blogpub's dead-letter queues:

* RenderDeadLetterQueue holds Lambda's OnFailure record of an asynchronous invocation
  (an S3 notification whose retries ran out). It carries the whole event
  (``requestPayload``): replaying sends that event to the function again. Stale or
  repeated events are harmless (invariant 4), so a replay can never undo a newer version.
* IndexDeadLetterQueue holds the OnFailure record of a stream batch. Lambda puts only the
  batch's position there (shard, first and last sequence numbers), never the records:
  replaying re-reads that range from the stream and invokes the function with it. Streams
  keep records for 24 hours; once they are trimmed the range cannot be re-read, and the
  only faithful repair is a whole-site rebuild (`blogpub rebuild`), which re-renders every
  page from the table. The replay says so and keeps the message.
* RebuildDeadLetterQueue is an SQS redrive queue: its messages are the original bodies,
  replayed by sending them back to the queue they came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from blogpub.events import s3_changes


class DeadLetterError(ValueError):
    """A dead-letter message that names nothing to replay; the message says what it holds."""


def unqualified_function_arn(arn: str) -> str:
    """``arn:aws:lambda:r:a:function:Name:$LATEST`` -> ``arn:aws:lambda:r:a:function:Name``."""
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn


@dataclass(frozen=True)
class EventReplay:
    """An asynchronous invocation whose retries ran out: invoke the function with its event."""

    function: str  # ARN without qualifier
    event: Mapping[str, Any]
    condition: str  # RetriesExhausted, EventAgeExceeded, ...
    error: str

    def describe(self) -> str:
        try:
            targets = [f"{c.key}@{c.version_id or 'null'}" for c in s3_changes(self.event)]
        except (KeyError, TypeError, ValueError):
            targets = []
        return f"event for {', '.join(targets) or 'an unknown object'} ({self.condition})"


@dataclass(frozen=True)
class StreamBatchReplay:
    """A stream batch whose retries ran out: re-read its range of records and invoke again."""

    function: str
    stream_arn: str
    shard_id: str
    first_sequence: str
    last_sequence: str
    batch_size: int

    def covers(self, sequence_number: str) -> bool:
        """Whether a record of the shard belongs to this batch (numbers compare as integers)."""
        return int(self.first_sequence) <= int(sequence_number) <= int(self.last_sequence)

    def describe(self) -> str:
        return (
            f"stream batch of {self.batch_size} record(s) {self.first_sequence}.."
            f"{self.last_sequence} on {self.shard_id}"
        )


@dataclass(frozen=True)
class RedriveReplay:
    """A message SQS moved here after too many receives: send its body back to its queue."""

    body: str

    def describe(self) -> str:
        return f"redriven message ({len(self.body)} bytes)"


Replay = EventReplay | StreamBatchReplay | RedriveReplay


def replay_for(body: str) -> Replay:
    """What replaying one dead-letter message means; raises DeadLetterError when unclear."""
    try:
        record = json.loads(body)
    except json.JSONDecodeError:
        return RedriveReplay(body)
    if not isinstance(record, dict):
        return RedriveReplay(body)
    context = record.get("requestContext")
    if not isinstance(context, dict) or "functionArn" not in context:
        return RedriveReplay(body)  # not a Lambda destination record: an original body
    function = unqualified_function_arn(str(context["functionArn"]))
    batch = record.get("DDBStreamBatchInfo")
    if isinstance(batch, dict):
        try:
            return StreamBatchReplay(
                function=function,
                stream_arn=str(batch["streamArn"]),
                shard_id=str(batch["shardId"]),
                first_sequence=str(batch["startSequenceNumber"]),
                last_sequence=str(batch["endSequenceNumber"]),
                batch_size=int(batch.get("batchSize", 0)),
            )
        except KeyError as missing:
            raise DeadLetterError(f"stream failure record without {missing}") from missing
    payload = record.get("requestPayload")
    if not isinstance(payload, dict):
        raise DeadLetterError(
            f"failure record of {function} carries no event (requestPayload); "
            "for a stream or queue source, replay from the source instead"
        )
    response = record.get("responsePayload")
    error = str(response.get("errorMessage", "")) if isinstance(response, dict) else ""
    return EventReplay(function, payload, str(context.get("condition", "")), error)
