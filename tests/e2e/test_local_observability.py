"""Issue 17: on the local stack each invocation logs and counts as its own function.

All functions share one process and Powertools' module-level Logger and Metrics, while
Lambda gives each function a process of its own. Posts uploaded at once run RenderPostFunction
on several threads while BuildIndexesFunction reads the stream: every log line must carry its
own function's service and its own post's correlation id, and every metric its own service.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from blogpub_local.stack import LocalStack

from tests.e2e.conftest import s3_client
from tests.logs import LogCapture

pytestmark = pytest.mark.e2e

POSTS = 8  # twice the async workers: renders overlap each other and the index builds
IDLE_TIMEOUT_SECONDS = 300
RENDER_METRICS = {"Published"}
INDEX_METRICS = {"StreamRecords", "InvalidationPaths"}


def post(number: int) -> bytes:
    return (
        f"---\ntitle: Concurrent {number}\ndate: 2024-05-{number + 1:02d} 10:00:00\n"
        f"categories: [Logs{number % 2}]\ntags: [t{number}]\n---\n\nBody {number}.\n"
    ).encode()


def emf_documents(printed: str) -> list[dict[str, Any]]:
    documents = []
    for line in printed.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def metric_names(document: dict[str, Any]) -> set[str]:
    return {
        metric["Name"]
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }


def test_functions_running_at_once_keep_their_own_service_and_correlation_id(
    stack: LocalStack, structured_logs: LogCapture, capsys: Any
) -> None:
    assert stack.info is not None
    services = {
        function.spec.function_name: function.spec.environment["POWERTOOLS_SERVICE_NAME"]
        for function in stack.functions.values()
    }
    assert len(set(services.values())) == len(services)
    s3 = s3_client(stack)
    versions = {}
    capsys.readouterr()

    for number in range(POSTS):
        key = f"_posts/logs/concurrent-{number}.md"
        answer = s3.put_object(Bucket=stack.info.source_bucket, Key=key, Body=post(number))
        versions[key] = answer["VersionId"]
    assert stack.wait_until_idle(timeout=IDLE_TIMEOUT_SECONDS)
    documents = emf_documents(capsys.readouterr().out)

    published = [line for line in structured_logs.lines if line["message"] == "post published"]
    assert {line["key"] for line in published} == set(versions)
    for line in published:
        assert line["correlation_id"] == f"{line['key']}@{versions[line['key']]}", line
    invoked = [line for line in structured_logs.lines if "function_name" in line]
    assert {line["function_name"] for line in invoked} >= {
        stack.functions["RenderPostFunction"].spec.function_name,
        stack.functions["BuildIndexesFunction"].spec.function_name,
    }
    for line in invoked:
        assert line["service"] == services[line["function_name"]], line
    render_documents = [d for d in documents if metric_names(d) & RENDER_METRICS]
    index_documents = [d for d in documents if metric_names(d) & INDEX_METRICS]
    published_counts = [sum(as_list(d["Published"])) for d in render_documents]
    assert sum(published_counts) == POSTS  # none flushed twice, none lost
    assert render_documents and all(d["service"] == "render-post" for d in render_documents)
    assert index_documents and all(d["service"] == "build-indexes" for d in index_documents)
    assert not [d for d in documents if metric_names(d) & RENDER_METRICS & INDEX_METRICS]
    # Renders ran at once, as Lambda runs them; stream batches one at a time (one shard).
    assert stack.functions["RenderPostFunction"].peak_running > 1
    assert stack.functions["BuildIndexesFunction"].peak_running == 1


def test_an_invocation_starts_with_no_keys_another_invocation_appended(
    stack: LocalStack, structured_logs: LogCapture
) -> None:
    assert stack.info is not None
    key = "_posts/logs/before-admin.md"
    s3_client(stack).put_object(Bucket=stack.info.source_bucket, Key=key, Body=post(20))
    assert stack.wait_until_idle(timeout=IDLE_TIMEOUT_SECONDS)

    # Refused before it names a request id: on a shared log context it would carry the
    # correlation id that the render (or the index build) appended last.
    answer = stack.functions["RollbackFunction"].invoke({"action": "no-such-action"})

    assert answer.payload["ok"] is False
    lines = structured_logs.lines
    (refused,) = [line for line in lines if line["message"] == "admin request refused"]
    assert refused["service"] == "rollback"
    assert "correlation_id" not in refused
