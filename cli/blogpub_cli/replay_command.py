"""`blogpub replay --queue Q`: replay what reached a dead-letter queue, then remove it.

``--queue`` is a queue URL, a queue name, or a logical id of the template
(``RenderDeadLetterQueue``, ``IndexDeadLetterQueue``, ``RebuildDeadLetterQueue``) resolved
through ``--stack`` (a deployed stack) or the running local stack's state file. What each
message means is blogpub.replay's rule. A message is deleted only once its replay was
accepted: an asynchronous invoke (a failure comes back through the OnFailure destination),
a stream batch whose synchronous invoke succeeded, or a redriven body sent back.
Exit code: 0 when every message was replayed, 1 when some were kept, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from blogpub.replay import (
    DeadLetterError,
    EventReplay,
    RedriveReplay,
    Replay,
    StreamBatchReplay,
    replay_for,
)
from blogpub_cli.state import StackInfo
from blogpub_cli.targets import Target, TargetError, aws_client, resolve_target

# Long enough for a stream batch's synchronous replay; the message reappears if we die.
VISIBILITY_TIMEOUT_SECONDS = 300
EXIT_KEPT = 1
EXIT_USAGE = 2


class ReplayKeptError(Exception):
    """This message was not replayed and stays in the queue; the message says why."""


@dataclass
class ReplayReport:
    replayed: list[str] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "kept": self.kept}


def resolve_queue(args: argparse.Namespace) -> Target:
    """The queue (its URL is the target's name) and how to reach it."""
    queue: str = args.queue

    def from_stack(stack: str) -> str:
        url = stack_queue_url(stack, queue, args.region, args.endpoint_url)
        return url or queue_url_by_name(queue, args)

    def from_local(info: StackInfo, local: Target) -> str:
        if queue in info.queues:
            return info.queues[queue]
        return queue_url_by_name(queue, args, local)

    return resolve_target(
        args,
        queue if queue.startswith(("https://", "http://")) else None,
        from_stack=from_stack,
        from_local=from_local,
        not_running=lambda: queue_url_by_name(queue, args),
    )


def stack_queue_url(stack: str, logical_id: str, region: str, endpoint: str | None) -> str | None:
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region, endpoint_url=endpoint)
    try:
        resource = cloudformation.describe_stack_resource(
            StackName=stack, LogicalResourceId=logical_id
        )
    except cloudformation.exceptions.ClientError:
        return None  # not a logical id of that stack: perhaps a queue name
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])


def queue_url_by_name(name: str, args: argparse.Namespace, where: Target | None = None) -> str:
    sqs = client("sqs", where or Target("", args.region, args.endpoint_url))
    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except sqs.exceptions.ClientError as error:
        raise TargetError(
            f"no queue {name!r}: give its URL, its name, or a template logical id "
            "with --stack (deployed) or a running local stack"
        ) from error


def client(service: str, where: Target) -> Any:
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=900)
    return aws_client(service, where, config)


def dead_letters(sqs: Any, queue_url: str, limit: int) -> Iterator[dict[str, Any]]:
    """Messages of the queue, each received once (they stay hidden while we work)."""
    received = 0
    while received < limit:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - received),
            VisibilityTimeout=VISIBILITY_TIMEOUT_SECONDS,
            WaitTimeSeconds=1,
        )
        messages = response.get("Messages", [])
        if not messages:
            return
        received += len(messages)
        yield from messages


@dataclass
class Replayer:
    """Carries out replays against one account (clients made on first use)."""

    where: Target  # its name is the queue's URL
    make_client: Callable[[str, Target], Any] = client
    _clients: dict[str, Any] = field(default_factory=dict)

    def service_client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.make_client(service, self.where)
        return self._clients[service]

    def replay(self, replay: Replay) -> None:
        """Raises ReplayKeptError when the message must stay in the queue."""
        if isinstance(replay, EventReplay):
            self._invoke_async(replay)
        elif isinstance(replay, StreamBatchReplay):
            self._replay_stream_batch(replay)
        else:
            self._redrive(replay)

    def _invoke_async(self, replay: EventReplay) -> None:
        response = self.service_client("lambda").invoke(
            FunctionName=replay.function,
            InvocationType="Event",
            Payload=json.dumps(replay.event).encode("utf-8"),
        )
        if int(response.get("StatusCode", 0)) != 202:
            raise ReplayKeptError(f"invoke answered {response.get('StatusCode')}, not 202")

    def _replay_stream_batch(self, replay: StreamBatchReplay) -> None:
        from blogpub_local.stream_poller import lambda_stream_record

        raw_records = self.stream_records(replay)
        records = [
            lambda_stream_record(raw, replay.stream_arn, self.where.region) for raw in raw_records
        ]
        response = self.service_client("lambda").invoke(
            FunctionName=replay.function,
            InvocationType="RequestResponse",
            Payload=json.dumps({"Records": records}, default=str).encode("utf-8"),
        )
        answer = json.loads(response["Payload"].read() or b"null")
        if "FunctionError" in response:
            message = answer.get("errorMessage") if isinstance(answer, dict) else answer
            raise ReplayKeptError(f"the function failed again: {message}")
        if isinstance(answer, dict) and answer.get("batchItemFailures"):
            raise ReplayKeptError(f"the function reported failures: {answer['batchItemFailures']}")

    def stream_records(self, replay: StreamBatchReplay) -> list[dict[str, Any]]:
        """The batch's records, re-read from the stream; ReplayKeptError when trimmed."""
        streams = self.service_client("dynamodbstreams")
        gone = ReplayKeptError(
            f"{replay.describe()} is no longer in the stream (records are kept 24 hours): "
            "run `blogpub rebuild` to re-render every page from the table, then delete "
            "this message"
        )
        try:
            iterator = streams.get_shard_iterator(
                StreamArn=replay.stream_arn,
                ShardId=replay.shard_id,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=replay.first_sequence,
            ).get("ShardIterator")
        except streams.exceptions.ClientError as error:
            raise gone from error
        records: list[dict[str, Any]] = []
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            batch = response.get("Records", [])
            records += [r for r in batch if replay.covers(r["dynamodb"]["SequenceNumber"])]
            if not batch or int(batch[-1]["dynamodb"]["SequenceNumber"]) >= int(
                replay.last_sequence
            ):
                break
            iterator = response.get("NextShardIterator")
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        if replay.first_sequence not in sequence_numbers:
            raise gone
        return records

    def _redrive(self, replay: RedriveReplay) -> None:
        sqs = self.service_client("sqs")
        sources = sqs.list_dead_letter_source_queues(QueueUrl=self.where.name)
        urls = sources.get("queueUrls", [])
        if len(urls) != 1:
            raise ReplayKeptError(
                f"not a Lambda failure record, and the queue is the dead-letter queue of "
                f"{len(urls)} queues, not one: cannot tell where to send it back"
            )
        sqs.send_message(QueueUrl=urls[0], MessageBody=replay.body)


def replay_queue(replayer: Replayer, limit: int, *, dry_run: bool = False) -> ReplayReport:
    sqs = replayer.service_client("sqs")
    report = ReplayReport()
    for message in dead_letters(sqs, replayer.where.name, limit):
        try:
            replay = replay_for(message["Body"])
            if not dry_run:
                replayer.replay(replay)
        except (DeadLetterError, ReplayKeptError) as error:
            report.kept.append({"message_id": message["MessageId"], "reason": str(error)})
            continue
        report.replayed.append(replay.describe())
        if dry_run:
            sqs.change_message_visibility(
                QueueUrl=replayer.where.name,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )
        else:
            sqs.delete_message(QueueUrl=replayer.where.name, ReceiptHandle=message["ReceiptHandle"])
    return report


def cmd_replay(args: argparse.Namespace) -> int:
    try:
        where = resolve_queue(args)
    except TargetError as error:
        print(f"blogpub replay: {error}", file=sys.stderr)
        return EXIT_USAGE
    report = replay_queue(Replayer(where), args.max, dry_run=args.dry_run)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return EXIT_KEPT if report.kept else 0


def add_replay_command(commands: Any) -> None:
    replay = commands.add_parser(
        "replay", help="replay dead-letter messages (failed renders, index batches, rebuilds)"
    )
    replay.add_argument(
        "--queue", required=True, help="queue URL, name, or logical id (RenderDeadLetterQueue)"
    )
    replay.add_argument("--max", type=int, default=100, help="at most this many messages")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    replay.add_argument("--stack", help="deployed stack whose logical id --queue names")
    replay.add_argument("--state", help="local stack state file (default: .blogpub/local.json)")
    replay.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    replay.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    replay.set_defaults(run=cmd_replay)
