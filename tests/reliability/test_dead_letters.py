"""What outlasts every retry reaches a dead-letter queue with enough context to replay it,
and `blogpub replay` replays it; `blogpub status` lists what happened. On the local stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from blogpub import service
from blogpub.replay import EventReplay, StreamBatchReplay, replay_for
from blogpub.table import PostTable
from blogpub_local.stack import LocalStack

from tests.e2e.conftest import local_stack, run_blogpub, s3_client, site_objects
from tests.integration.test_pipeline import expected_site
from tests.reliability.faults import S3_ACCESS_DENIED, FaultInjector, FaultPlan, url_contains
from tests.reliability.posts import hexo_post

pytestmark = pytest.mark.e2e

POISON_KEY = "_posts/kitchen/sourdough.md"
POISON = hexo_post("Sourdough, day one", categories=["Kitchen"], tags=["bread"])
NEIGHBOUR_KEY = "_posts/kitchen/jam.md"
NEIGHBOUR = hexo_post("Plum jam", "2024-08-09 10:00:00", categories=["Pantry"])
BAD_KEY = "_posts/kitchen/undated.md"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory, "dead-letters") as running:
        yield running


@pytest.fixture
def function_faults(stack: LocalStack) -> Iterator[FaultInjector]:
    """Faults on the clients the stack's functions use (one runtime per environment)."""
    function = stack.functions["RenderPostFunction"]
    with function.gate.applied(function.spec.environment):
        rt = service.runtime()
    injector = FaultInjector({"s3": rt.s3, "dynamodb": rt.dynamodb, "cloudfront": rt.cloudfront})
    yield injector
    injector.remove_all()


def queue_messages(stack: LocalStack, logical_id: str) -> list[dict[str, Any]]:
    """Every message of a queue, left in place (made visible again at once)."""
    sqs = stack.clients["sqs"]
    url = stack.created.queue_urls[logical_id]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return list(messages.get("Messages", []))


def upload(stack: LocalStack, key: str, body: str | bytes) -> None:
    assert stack.info is not None
    data = body.encode() if isinstance(body, str) else body
    s3_client(stack).put_object(Bucket=stack.info.source_bucket, Key=key, Body=data)


def state_args(stack: LocalStack) -> list[str]:
    return ["--state", str(stack.options.state_file)]


def test_a_render_that_keeps_failing_is_dead_lettered_and_replayed(
    stack: LocalStack, function_faults: FaultInjector, tmp_path: Path
) -> None:
    assert stack.info is not None
    denied = function_faults.inject(
        FaultPlan("s3.GetObject", [S3_ACCESS_DENIED] * 100, only=url_contains("sourdough"))
    )
    upload(stack, POISON_KEY, POISON)
    assert stack.wait_until_idle(120)

    (message,) = queue_messages(stack, "RenderDeadLetterQueue")
    replay = replay_for(message["Body"])
    assert isinstance(replay, EventReplay)
    assert denied.attempts == 3  # the first invocation and Lambda's two retries
    assert replay.function.endswith(stack.functions["RenderPostFunction"].spec.function_name)
    assert "AccessDenied" in replay.error
    assert replay.describe().startswith(f"event for {POISON_KEY}@")
    function_faults.remove_all()

    answer = run_blogpub(
        ["replay", "--queue", "RenderDeadLetterQueue", *state_args(stack)], tmp_path
    )
    assert answer.returncode == 0, answer.stderr
    assert stack.wait_until_idle(120)

    assert json.loads(answer.stdout)["replayed"] == [replay.describe()]
    assert queue_messages(stack, "RenderDeadLetterQueue") == []
    record = PostTable(stack.clients["dynamodb"], stack.info.table).get_post(POISON_KEY)
    assert record is not None and record.status == "published"


def test_an_index_batch_that_keeps_failing_is_dead_lettered_and_replayed(
    stack: LocalStack, function_faults: FaultInjector, tmp_path: Path
) -> None:
    assert stack.info is not None
    function_faults.inject(
        FaultPlan("s3.PutObject", [S3_ACCESS_DENIED] * 1000, only=url_contains("categories/Pantry"))
    )
    upload(stack, NEIGHBOUR_KEY, NEIGHBOUR)
    assert stack.wait_until_idle(180)

    messages = queue_messages(stack, "IndexDeadLetterQueue")
    assert messages
    replays = [replay_for(message["Body"]) for message in messages]
    assert all(isinstance(replay, StreamBatchReplay) for replay in replays)
    function_faults.remove_all()

    answer = run_blogpub(
        ["replay", "--queue", "IndexDeadLetterQueue", *state_args(stack)], tmp_path
    )
    assert answer.returncode == 0, answer.stderr
    assert stack.wait_until_idle(120)

    assert len(json.loads(answer.stdout)["replayed"]) == len(messages)
    assert queue_messages(stack, "IndexDeadLetterQueue") == []
    site = site_objects(stack)
    assert site == expected_site({POISON_KEY: POISON.encode(), NEIGHBOUR_KEY: NEIGHBOUR.encode()})


def test_status_lists_recent_publishes_and_failures(stack: LocalStack, tmp_path: Path) -> None:
    upload(stack, BAD_KEY, b"---\ntitle: No date\n---\nbody\n")
    assert stack.wait_until_idle(60)

    answer = run_blogpub(["status", "--json", "--limit", "5", *state_args(stack)], tmp_path)
    text = run_blogpub(["status", *state_args(stack)], tmp_path)

    assert answer.returncode == 0, answer.stderr
    status = json.loads(answer.stdout)
    (failure,) = status["failures"]
    assert (failure["source_key"], failure["reason"]) == (BAD_KEY, "bad-date")
    assert failure["error"].startswith(f"{BAD_KEY}: ")
    assert status["failures_by_reason"] == {"bad-date": 1}
    assert [line["source_key"] for line in status["activity"]][:1] == [BAD_KEY]
    assert {line["outcome"] for line in status["activity"]} >= {"published", "rejected"}
    assert POISON_KEY in {line["source_key"] for line in status["activity"]}
    assert text.returncode == 0
    assert "Recent failures (1):" in text.stdout and "bad-date" in text.stdout


def test_replay_of_an_unknown_queue_is_a_usage_error(stack: LocalStack, tmp_path: Path) -> None:
    answer = run_blogpub(["replay", "--queue", "NoSuchQueue", *state_args(stack)], tmp_path)

    assert answer.returncode == 2
    assert "no queue 'NoSuchQueue'" in answer.stderr
