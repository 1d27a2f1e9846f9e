"""The CLI's shared pieces: how a command finds its target, and the poller thread skeleton."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

import pytest
from blogpub_cli import admin_commands, replay_command, status_command
from blogpub_cli.state import StackInfo, write_state
from blogpub_cli.targets import Target, TargetError, resolve_target
from blogpub_local.poller import Poller


def local_stack(path: Path, **changes: Any) -> Path:
    info = StackInfo(
        endpoint="http://127.0.0.1:5001",
        site_url="http://127.0.0.1:8000",
        source_bucket="source",
        site_bucket="site",
        table="posts-table",
        distribution_id="E1",
        region="eu-west-1",
        control_url="http://127.0.0.1:5002",
        state_file=str(path),
        functions={"RollbackFunction": "blogpub-rollback"},
        queues={"RenderDeadLetterQueue": "http://127.0.0.1:5001/123/render-dlq"},
    )
    write_state(StackInfo(**{**info.__dict__, **changes}), path)
    return path


def arguments(state: Path, **given: Any) -> argparse.Namespace:
    defaults = {"stack": None, "endpoint_url": None, "region": "us-east-1", "state": str(state)}
    return argparse.Namespace(**(defaults | given))


def resolve(args: argparse.Namespace, explicit: str | None, not_running: Any) -> Target:
    return resolve_target(
        args,
        explicit,
        from_stack=lambda stack: f"{stack}-output",
        from_local=lambda info, local: f"{info.table}@{local.endpoint_url}",
        not_running=not_running,
    )


def test_explicit_then_stack_then_local_stack(tmp_path: Path) -> None:
    state = local_stack(tmp_path / "local.json")
    args = arguments(state, endpoint_url="http://elsewhere")
    assert resolve(args, "given", "hint") == Target("given", "us-east-1", "http://elsewhere")
    args.stack = "prod"
    assert resolve(args, None, "hint") == Target("prod-output", "us-east-1", "http://elsewhere")
    args.stack = None
    local = resolve(args, None, "hint")
    assert local == Target("posts-table@http://elsewhere", "eu-west-1", "http://elsewhere", True)
    args.endpoint_url = None
    assert resolve(args, None, "hint").endpoint_url == "http://127.0.0.1:5001"


def test_without_a_local_stack_a_hint_or_a_fallback(tmp_path: Path) -> None:
    args = arguments(tmp_path / "missing.json")
    with pytest.raises(TargetError) as raised:
        resolve(args, None, "name a table (--table NAME)")
    assert str(raised.value) == (
        f"no local stack state at {tmp_path / 'missing.json'}: start one with "
        "`blogpub local up`; or name a table (--table NAME)"
    )
    assert resolve(args, None, lambda: "found") == Target("found", "us-east-1", None, False)


def test_each_command_names_its_own_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = local_stack(tmp_path / "local.json")
    status = arguments(state, table=None)
    assert status_command.resolve_table(status).name == "posts-table"
    admin = arguments(state, function=None)
    assert admin_commands.resolve_function(admin).name == "blogpub-rollback"
    replay = arguments(state, queue="RenderDeadLetterQueue")
    assert replay_command.resolve_queue(replay) == Target(
        "http://127.0.0.1:5001/123/render-dlq", "eu-west-1", "http://127.0.0.1:5001", True
    )
    replay.queue = "https://sqs.example/1/q"
    assert replay_command.resolve_queue(replay).name == "https://sqs.example/1/q"

    outputs: list[tuple[str, str, str]] = []

    def stack_output(stack: str, key: str, region: str) -> str:
        outputs.append((stack, key, region))
        return "from-stack"

    monkeypatch.setattr(status_command, "stack_output", stack_output)
    monkeypatch.setattr(admin_commands, "stack_output", stack_output)
    status.stack = admin.stack = "prod"
    assert status_command.resolve_table(status).name == "from-stack"
    assert admin_commands.resolve_function(admin).name == "from-stack"
    assert outputs == [
        ("prod", "TableName", "us-east-1"),
        ("prod", "RollbackFunctionName", "us-east-1"),
    ]


def test_admin_and_status_errors_keep_their_wording(tmp_path: Path) -> None:
    state = local_stack(tmp_path / "local.json", functions={})
    with pytest.raises(
        TargetError, match=r"the local stack in .*local\.json has no RollbackFunction"
    ):
        admin_commands.resolve_function(arguments(state, function=None))
    missing = tmp_path / "missing.json"
    with pytest.raises(
        TargetError, match=r"; or name a deployed stack \(--stack NAME\) or function"
    ):
        admin_commands.resolve_function(arguments(missing, function=None))
    with pytest.raises(TargetError, match=r"; or name a table \(--table NAME\) or deployed stack"):
        status_command.resolve_table(arguments(missing, table=None))


class CountingPoller(Poller):
    def __init__(self, batches: int) -> None:
        super().__init__(thread_name="counting-poller", poll_interval_seconds=0.01)
        self.batches = batches
        self.polls = 0
        self.drained = threading.Event()

    def _source_has_pending(self) -> bool:
        return self.batches > 0

    def _poll_once(self) -> bool:
        self.polls += 1
        assert self.in_flight.count == 1  # a poll counts as in flight
        if not self.batches:
            self.drained.set()
            return False
        self.batches -= 1
        return True


def test_poller_polls_until_stopped_and_reports_pending() -> None:
    poller = CountingPoller(batches=3)
    assert poller.has_pending()
    poller.start()
    assert poller.drained.wait(timeout=5)
    poller.stop()
    assert not poller._thread.is_alive()
    assert not poller.has_pending()
    assert poller._thread.name == "counting-poller"
    assert poller._thread.daemon
    assert poller.polls >= 4
