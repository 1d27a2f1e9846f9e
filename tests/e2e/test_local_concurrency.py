"""Issue 17: the local stack runs a function's invocations at once, as Lambda does, up to a
concurrency (the template's ReservedConcurrentExecutions, else StackOptions.concurrency).

A handler that holds every invocation until released shows how many ran at once: S3 events
(async invocations) and rebuild-queue batches (the SQS mapping) alike. SQS semantics hold:
each message is handed to one invocation only, and all are deleted once they succeed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from blogpub_local.stack import LocalStack, StackOptions

from tests.e2e.conftest import TEMPLATE, s3_client, stack_client

pytestmark = pytest.mark.e2e

CONCURRENCY = 3
UPLOADS = 7
MESSAGES = 25  # three batches of at most 10
WAIT_SECONDS = 60


@dataclass
class HeldHandler:
    """Holds each invocation until ``release`` is set; records every event it was given."""

    release: threading.Event = field(default_factory=threading.Event)
    events: list[dict[str, Any]] = field(default_factory=list)
    running: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.events.append(event)
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            self.release.wait(WAIT_SECONDS)
        finally:
            with self.lock:
                self.running -= 1
        return {"batchItemFailures": []}

    def wait_for_running(self, count: int) -> bool:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.running >= count:
                return True
            time.sleep(0.05)
        return False


@pytest.fixture(scope="module")
def held_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LocalStack, HeldHandler]]:
    handler = HeldHandler()
    options = StackOptions(
        TEMPLATE,
        stack_name="blogpub-held-invocations",  # unique: stacks share moto
        state_file=tmp_path_factory.mktemp("held") / "local.json",
        handler_overrides={"RenderPostFunction": handler},
        concurrency=CONCURRENCY,
    )
    with LocalStack(options) as running:
        yield running, handler
        handler.release.set()


@pytest.fixture
def held(held_stack: tuple[LocalStack, HeldHandler]) -> tuple[LocalStack, HeldHandler]:
    """The stack with its handler holding invocations again and no events recorded."""
    _, handler = held_stack
    handler.release.clear()
    handler.events.clear()
    handler.peak = 0
    return held_stack


def test_a_burst_of_uploads_runs_up_to_the_concurrency_at_once(
    held: tuple[LocalStack, HeldHandler],
) -> None:
    stack, handler = held
    assert stack.info is not None
    s3 = s3_client(stack)
    for number in range(UPLOADS):
        s3.put_object(Bucket=stack.info.source_bucket, Key=f"_posts/c/{number}.md", Body=b"x")

    assert handler.wait_for_running(CONCURRENCY)
    time.sleep(1.0)  # room for a fourth, which must not start
    assert handler.running == CONCURRENCY
    handler.release.set()
    assert stack.wait_until_idle(timeout=WAIT_SECONDS)

    assert handler.peak == CONCURRENCY
    keys = [
        record["s3"]["object"]["key"] for event in handler.events for record in event["Records"]
    ]
    assert sorted(keys) == sorted(f"_posts/c/{number}.md" for number in range(UPLOADS))


def test_queue_batches_run_at_once_and_each_message_reaches_one_invocation(
    held: tuple[LocalStack, HeldHandler],
) -> None:
    stack, handler = held
    assert stack.info is not None
    sqs = stack_client(stack, "sqs")
    queue_url = stack.info.queues["RebuildQueue"]
    for number in range(MESSAGES):
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": number}))

    assert handler.wait_for_running(CONCURRENCY)
    time.sleep(1.0)
    assert handler.running == CONCURRENCY  # three batches of ten and five wait their turn
    handler.release.set()
    assert stack.wait_until_idle(timeout=WAIT_SECONDS)

    bodies = [
        json.loads(record["body"])["n"]
        for event in handler.events
        for record in event["Records"]
        if record["eventSource"] == "aws:sqs"
    ]
    assert sorted(bodies) == list(range(MESSAGES))  # none twice, none lost
    assert all(len(event["Records"]) <= 10 for event in handler.events)
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert {int(value) for value in attributes.values()} == {0}  # every success deleted
