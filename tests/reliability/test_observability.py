"""Visibility: Powertools metrics (EMF) and structured logs keyed by "<key>@<version>"."""

from __future__ import annotations

from typing import Any

import pytest
from blogpub.errors import TransientError
from blogpub.table import PostTable

from tests.integration.harness import SITE, TABLE, Pipeline
from tests.reliability.conftest import (
    Handler,
    LogCapture,
    emf_documents,
    lambda_context,
    metric_values,
)
from tests.reliability.faults import S3_ACCESS_DENIED, FaultInjector, FaultPlan, url_contains
from tests.reliability.posts import hexo_post

KEY = "_posts/food/pastel.md"
POST = hexo_post("Pastel de nata", categories=["Food"], tags=["custard"])
BROKEN = b"---\ntitle: [unclosed\n---\nbody\n"


def test_render_post_emits_published_rejected_and_pages_written(
    pipeline: Pipeline, render_handler: Handler, structured_logs: LogCapture, capsys: Any
) -> None:
    published = pipeline.put(KEY, POST, deliver=False)
    rejected = pipeline.put("_posts/food/broken.md", BROKEN, deliver=False)

    render_handler(published, lambda_context("render-post"))
    render_handler(rejected, lambda_context("render-post"))
    documents = emf_documents(capsys.readouterr().out)

    assert metric_values(documents) == {"Published": 1, "PagesWritten": 1, "Rejected": 1}
    assert {document["_aws"]["CloudWatchMetrics"][0]["Namespace"] for document in documents} == {
        "blogpub"
    }
    by_message = {line["message"]: line for line in structured_logs.lines}
    version = published["Records"][0]["s3"]["object"]["versionId"]
    assert by_message["post published"]["correlation_id"] == f"{KEY}@{version}"
    assert by_message["post published"]["url"] == "/2024/03/05/food/pastel/"
    rejection = by_message["post rejected"]
    broken_version = rejected["Records"][0]["s3"]["object"]["versionId"]
    assert rejection["correlation_id"] == f"_posts/food/broken.md@{broken_version}"
    assert rejection["level"] == "WARNING"
    assert rejection["reason"] == "bad-front-matter"
    assert rejection["error"].startswith("_posts/food/broken.md: ")
    record = PostTable(pipeline.dynamodb, TABLE).get_post("_posts/food/broken.md")
    assert record is not None and record.last_error == rejection["error"]


def test_build_indexes_emits_pages_written_and_invalidation_paths(
    pipeline: Pipeline, render_handler: Handler, build_handler: Handler, capsys: Any
) -> None:
    render_handler(pipeline.put(KEY, POST, deliver=False), lambda_context("render-post"))
    capsys.readouterr()
    first_records = list(pipeline.stream_records())
    build_handler({"Records": first_records}, lambda_context("build-indexes"))
    first = metric_values(emf_documents(capsys.readouterr().out))
    update = pipeline.put(
        KEY, POST.replace("Pastel de nata", "Pastel de nata, warm"), deliver=False
    )
    render_handler(update, lambda_context("render-post"))
    capsys.readouterr()
    records = list(pipeline.stream_records())

    answer = build_handler({"Records": records}, lambda_context("build-indexes"))
    second = metric_values(emf_documents(capsys.readouterr().out))

    assert first["PagesWritten"] > 10 and first["InvalidationPaths"] == 0  # every URL was new
    assert first["StreamRecords"] == len(first_records)
    assert second["PagesWritten"] == len(answer["pages_written"]) > 0
    assert second["InvalidationPaths"] == len(answer["invalidation"]["paths"])
    assert "/2024/03/05/food/pastel/" in answer["invalidation"]["paths"]


def test_a_change_that_fails_is_counted_before_lambda_retries_it(
    pipeline: Pipeline,
    render_handler: Handler,
    faults: FaultInjector,
    capsys: Any,
) -> None:
    faults.inject(
        FaultPlan("s3.PutObject", [S3_ACCESS_DENIED] * 50, only=url_contains(SITE, "pastel"))
    )
    event = pipeline.put(KEY, POST, deliver=False)

    with pytest.raises(TransientError):
        render_handler(event, lambda_context("render-post"))

    assert metric_values(emf_documents(capsys.readouterr().out)) == {"Failed": 1}
