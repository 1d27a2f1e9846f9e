"""The embedded local stack for end-to-end tests: one real pipeline per session, on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from blogpub_local.stack import LocalStack, StackOptions

from tests.logs import structured_logs  # noqa: F401  # a fixture for the e2e tests

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
BLOGPUB = Path(sys.executable).parent / "blogpub"


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def http_get(url: str, method: str = "GET") -> HttpAnswer:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return HttpAnswer(response.status, response.headers["Content-Type"], response.read())
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, error.headers["Content-Type"], error.read())


def run_blogpub(
    args: Sequence[str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The installed `blogpub` console script, as a user runs it."""
    return subprocess.run(  # noqa: PLW1510 - the tests read returncode
        [str(BLOGPUB), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stack_client(stack: LocalStack, service: str) -> Any:
    """A boto3 client of the local stack's endpoint, as an author's or admin's tools make."""
    return boto3.client(
        service,
        endpoint_url=stack.endpoint,
        region_name=stack.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def s3_client(stack: LocalStack) -> Any:
    return stack_client(stack, "s3")


def site_objects(stack: LocalStack) -> dict[str, bytes]:
    """Every object of the stack's site bucket, by key."""
    assert stack.info is not None
    s3 = s3_client(stack)
    pages = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.info.site_bucket):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=stack.info.site_bucket, Key=obj["Key"])["Body"].read()
            pages[obj["Key"]] = body
    return pages


@contextmanager
def local_stack(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[LocalStack]:
    """The real pipeline (template.yaml's functions) on moto, with a state file of its own."""
    state = tmp_path_factory.mktemp(name) / "local.json"
    with LocalStack(
        StackOptions(TEMPLATE, stack_name=f"blogpub-{name}", state_file=state)
    ) as running:
        yield running


# Package scope: stopped (pollers first) before other packages reset moto's backends.
@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory, "e2e") as running:
        yield running


@dataclass
class Recorder:
    """A stand-in handler: records events; can fail or block on demand."""

    events: list[dict[str, Any]] = field(default_factory=list)
    fail_with: Exception | None = None
    release: threading.Event = field(default_factory=threading.Event)
    answer: Callable[[dict[str, Any]], Any] = lambda event: {"recorded": True}

    def __post_init__(self) -> None:
        self.release.set()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.release.wait(timeout=60)
        if self.fail_with is not None:
            raise self.fail_with
        return self.answer(event)

    def records(self) -> list[dict[str, Any]]:
        return [record for event in self.events for record in event.get("Records", [])]


@dataclass
class RecordingStack:
    stack: LocalStack
    render: Recorder
    indexes: Recorder


# Package scope: stopped (pollers first) before other packages reset moto's backends.
@pytest.fixture(scope="package")
def recording_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordingStack]:
    """The template's wiring with recording handlers in place of render and index functions."""
    render, indexes = Recorder(), Recorder()
    options = StackOptions(
        TEMPLATE,
        stack_name="blogpub-recorder",
        state_file=tmp_path_factory.mktemp("recorder") / "local.json",
        handler_overrides={"RenderPostFunction": render, "BuildIndexesFunction": indexes},
    )
    with LocalStack(options) as running:
        yield RecordingStack(running, render, indexes)
