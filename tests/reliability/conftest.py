"""Fixtures for the reliability tests: the in-process pipeline, its handlers and their output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from blogpub import service
from blogpub.observability import metrics
from blogpub_local import moto_fidelity
from blogpub_local.lambda_runtime import LambdaContext, load_handler

from tests.conftest import REPO
from tests.integration.harness import Pipeline
from tests.logs import LogCapture, structured_logs  # noqa: F401  # the fixture
from tests.reliability.faults import FaultInjector

Handler = Callable[[dict[str, Any], Any], Any]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``unpatched_moto_too`` run on the patched moto and on moto as released."""
    if metafunc.definition.get_closest_marker("unpatched_moto_too"):
        metafunc.parametrize("moto_build", ["fidelity", "unpatched"], indirect=True)


@pytest.fixture(autouse=True)
def moto_build(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which moto answers: with moto_fidelity's patches (the default), or without them.

    The patches exist for speed and for all-or-nothing transactions; a small case that
    passes on both shows the pipeline does not lean on them for its outcome.
    """
    build: str = getattr(request, "param", "fidelity")
    if build == "unpatched":
        with moto_fidelity.unpatched():
            yield build
    else:
        yield build


@pytest.fixture(autouse=True)
def unflushed_metrics_dropped() -> None:
    """Tests that call blogpub.service directly leave metrics that no handler flushed."""
    metrics.clear_metrics()


def lambda_context(function_name: str) -> LambdaContext:
    return LambdaContext.for_invocation(function_name, 1024, 30, "us-east-1", "123456789012")


@pytest.fixture(scope="session")
def render_handler() -> Handler:
    """functions/render_post/app.py's handler, with its Powertools decorators."""
    return load_handler(
        REPO / "functions" / "render_post", "app", "lambda_handler", "reliability_render_post"
    )


@pytest.fixture(scope="session")
def build_handler() -> Handler:
    return load_handler(
        REPO / "functions" / "build_indexes", "app", "lambda_handler", "reliability_build_indexes"
    )


def emf_documents(printed: str) -> list[dict[str, Any]]:
    """The CloudWatch EMF documents among printed lines (Powertools metrics flushes)."""
    documents = []
    for line in printed.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if isinstance(document, dict) and "_aws" in document:
            documents.append(document)
    return documents


def metric_values(documents: list[dict[str, Any]]) -> dict[str, float]:
    """Metric name -> value summed over the documents."""
    totals: dict[str, float] = {}
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                name = metric["Name"]
                value = document[name]
                values = value if isinstance(value, list) else [value]
                totals[name] = totals.get(name, 0) + sum(values)
    return totals


@pytest.fixture
def faults(pipeline: Pipeline) -> Iterator[FaultInjector]:
    """Fault injection on the clients the functions use (service.runtime()'s)."""
    rt = service.runtime()
    injector = FaultInjector({"s3": rt.s3, "dynamodb": rt.dynamodb, "cloudfront": rt.cloudfront})
    yield injector
    injector.remove_all()
