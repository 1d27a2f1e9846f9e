"""Invariant 7, transient side: throttling and 5xx are retried with backoff; what still fails
raises, so Lambda retries the event and finally hands it to the dead-letter queue."""

from __future__ import annotations

import pytest
from blogpub import service
from blogpub.errors import TransientError
from blogpub.models import object_key_for

from tests.integration.harness import SITE, SOURCE, Pipeline
from tests.integration.test_pipeline import expected_site
from tests.reliability.faults import (
    CLOUDFRONT_THROTTLING,
    CLOUDFRONT_TOO_MANY,
    CLOUDFRONT_UNAVAILABLE,
    DYNAMODB_INTERNAL,
    DYNAMODB_THROTTLING,
    DYNAMODB_THROUGHPUT,
    S3_ACCESS_DENIED,
    S3_INTERNAL_ERROR,
    S3_SLOW_DOWN,
    FaultInjector,
    FaultPlan,
    url_contains,
)
from tests.reliability.posts import hexo_post

KEY = "_posts/travel/lisbon.md"
POST = hexo_post("Lisbon in spring", categories=["Travel", "Portugal"], tags=["tiles"])
UPDATED = POST.replace("The rest of the post.", "The rest of the post, revised.")


def outcomes(pipeline: Pipeline) -> list[str]:
    return [r["outcome"] for result in pipeline.render_results for r in result["results"]]


def test_clients_use_botocore_standard_retries_with_backoff(pipeline: Pipeline) -> None:
    rt = service.runtime()
    for client in (rt.s3, rt.dynamodb, rt.cloudfront):
        retries = client.meta.config.retries  # type: ignore[attr-defined]
        assert retries["mode"] == "standard"
        assert retries["total_max_attempts"] >= 5


def test_s3_throttling_and_server_errors_are_retried(
    pipeline: Pipeline, faults: FaultInjector
) -> None:
    source_reads = faults.inject(
        FaultPlan(
            "s3.GetObject", [S3_SLOW_DOWN, S3_INTERNAL_ERROR], only=url_contains(SOURCE, "lisbon")
        )
    )
    page_writes = faults.inject(
        FaultPlan("s3.PutObject", [S3_INTERNAL_ERROR, S3_SLOW_DOWN], only=url_contains(SITE))
    )
    checks = faults.inject(FaultPlan("s3.HeadObject", [S3_INTERNAL_ERROR]))

    pipeline.put(KEY, POST)
    pipeline.build()

    assert outcomes(pipeline) == ["published"]
    assert source_reads.attempts == 3  # two errors, then the answer
    assert page_writes.attempts > 2 and checks.attempts > 1
    gaps = [
        b - a
        for a, b in zip(source_reads.attempt_times, source_reads.attempt_times[1:], strict=False)
    ]
    assert all(gap > 0 for gap in gaps)
    assert pipeline.site_objects() == expected_site({KEY: POST.encode()})


def test_dynamodb_throttling_and_server_errors_are_retried(
    pipeline: Pipeline, faults: FaultInjector
) -> None:
    commits = faults.inject(
        FaultPlan("dynamodb.TransactWriteItems", [DYNAMODB_THROUGHPUT, DYNAMODB_THROTTLING])
    )
    reads = faults.inject(FaultPlan("dynamodb.GetItem", [DYNAMODB_INTERNAL]))
    queries = faults.inject(
        FaultPlan("dynamodb.Query", [DYNAMODB_THROUGHPUT, DYNAMODB_INTERNAL, DYNAMODB_THROTTLING])
    )

    pipeline.put(KEY, POST)
    pipeline.build()

    assert outcomes(pipeline) == ["published"]
    assert commits.attempts == 3
    assert reads.attempts > 1 and queries.attempts > 3
    assert pipeline.site_objects() == expected_site({KEY: POST.encode()})


def test_cloudfront_throttling_errors_and_busy_invalidations_are_retried(
    pipeline: Pipeline, faults: FaultInjector
) -> None:
    pipeline.put(KEY, POST)
    pipeline.build()
    invalidations = faults.inject(
        FaultPlan(
            "cloudfront.CreateInvalidation",
            [
                CLOUDFRONT_UNAVAILABLE,
                CLOUDFRONT_THROTTLING,
                CLOUDFRONT_TOO_MANY,
                CLOUDFRONT_TOO_MANY,
            ],
        )
    )

    pipeline.put(KEY, UPDATED)
    (report,) = pipeline.build()

    # botocore retries the 503 and the throttle; blogpub's Invalidator the busy answers.
    assert invalidations.attempts == 5
    done = pipeline.invalidations()
    assert len(done) == 1
    assert sorted(done[0]) == report["invalidation"]["paths"]
    assert "/2024/03/05/travel/lisbon/" in done[0]
    assert pipeline.site_objects() == expected_site({KEY: UPDATED.encode()})


def test_a_failure_that_outlasts_the_retries_raises_for_lambda_to_retry(
    pipeline: Pipeline, faults: FaultInjector
) -> None:
    page = object_key_for("/2024/03/05/travel/lisbon/")
    denied = faults.inject(
        FaultPlan("s3.PutObject", [S3_ACCESS_DENIED] * 50, only=url_contains(SITE, "lisbon"))
    )
    event = pipeline.put(KEY, POST, deliver=False)

    with pytest.raises(TransientError, match="1 change"):
        pipeline.deliver(event)
    assert denied.attempts >= 1
    faults.remove_all()
    retried = pipeline.deliver(event)  # Lambda's asynchronous retry of the same event
    pipeline.build()

    assert page in pipeline.site_objects()
    assert retried["results"][0]["pages_written"] == ["/2024/03/05/travel/lisbon/"]
    assert pipeline.site_objects() == expected_site({KEY: POST.encode()})


@pytest.mark.unpatched_moto_too
def test_a_delete_whose_page_removal_failed_is_finished_by_the_retry(
    pipeline: Pipeline, faults: FaultInjector
) -> None:
    pipeline.put(KEY, POST)
    pipeline.build()
    page = object_key_for("/2024/03/05/travel/lisbon/")
    assert page in pipeline.site_objects()
    denied = faults.inject(
        FaultPlan("s3.DeleteObject", [S3_ACCESS_DENIED] * 50, only=url_contains(SITE, "lisbon"))
    )
    event = pipeline.delete(KEY, deliver=False)

    with pytest.raises(TransientError, match="1 change"):
        pipeline.deliver(event)  # the table says deleted; the page is still online
    assert denied.attempts >= 1
    assert page in pipeline.site_objects()
    faults.remove_all()
    retried = pipeline.deliver(event)  # Lambda's asynchronous retry of the same event
    pipeline.build()

    assert retried["results"][0]["outcome"] == "stale"  # already committed: not applied again
    assert retried["results"][0]["pages_deleted"] == ["/2024/03/05/travel/lisbon/"]
    assert pipeline.site_objects() == expected_site({})
