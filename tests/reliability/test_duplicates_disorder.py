"""Invariant 4: events arrive at least once and in any order; the newest version wins."""

from __future__ import annotations

from typing import Any

import pytest
from blogpub.table import EventRecord, PostTable

from tests.integration.harness import TABLE, Pipeline
from tests.integration.test_pipeline import expected_site
from tests.reliability.conftest import (
    Handler,
    LogCapture,
    emf_documents,
    lambda_context,
    metric_values,
)
from tests.reliability.posts import hexo_post

KEY = "_posts/travel/lisbon.md"
FIRST = hexo_post("Lisbon, first draft", categories=["Travel", "Portugal"], tags=["trams"])
OTHER_KEY = "_posts/notes/kettle.md"
OTHER = hexo_post("A kettle that whistles", "2023-11-02 08:00:00", categories=["Home"])
SECOND = hexo_post("Lisbon in spring", categories=["Travel", "Portugal"], tags=["tiles"])


def outcomes(result: dict[str, Any]) -> list[str]:
    return [entry["outcome"] for entry in result["results"]]


def activity_of(pipeline: Pipeline, key: str) -> list[EventRecord]:
    return [
        record
        for record in PostTable(pipeline.dynamodb, TABLE).recent_activity(100)
        if record.source_key == key
    ]


@pytest.mark.unpatched_moto_too
def test_the_same_event_twice_publishes_once(pipeline: Pipeline) -> None:
    event = pipeline.put(KEY, FIRST)
    pipeline.build()
    site_before = pipeline.site_objects()
    record_before = PostTable(pipeline.dynamodb, TABLE).get_post(KEY)

    repeated = pipeline.deliver(event)
    pipeline.build()

    assert outcomes(repeated) == ["stale"]
    assert repeated["results"][0]["pages_written"] == []
    assert pipeline.site_objects() == site_before == expected_site({KEY: FIRST.encode()})
    assert PostTable(pipeline.dynamodb, TABLE).get_post(KEY) == record_before
    assert len(activity_of(pipeline, KEY)) == 1  # the repeat committed nothing


@pytest.mark.unpatched_moto_too
def test_an_older_version_after_a_newer_one_is_dropped(pipeline: Pipeline) -> None:
    older = pipeline.put(KEY, FIRST, deliver=False)
    newer = pipeline.put(KEY, SECOND, deliver=False)

    first = pipeline.deliver(newer)
    late = pipeline.deliver(older)
    pipeline.build()

    assert (outcomes(first), outcomes(late)) == (["published"], ["stale"])
    assert pipeline.site_objects() == expected_site({KEY: SECOND.encode()})
    record = PostTable(pipeline.dynamodb, TABLE).get_post(KEY)
    assert record is not None and record.entry is not None
    assert record.version_id == newer["Records"][0]["s3"]["object"]["versionId"]
    assert record.entry.title == "Lisbon in spring"


@pytest.mark.unpatched_moto_too
def test_a_late_delete_does_not_remove_a_newer_version(pipeline: Pipeline) -> None:
    pipeline.put(KEY, FIRST)
    deletion = pipeline.delete(KEY, deliver=False)
    restored = pipeline.put(KEY, SECOND, deliver=False)

    pipeline.deliver(restored)
    late = pipeline.deliver(deletion)
    pipeline.build()

    assert outcomes(late) == ["stale"]
    assert pipeline.site_objects() == expected_site({KEY: SECOND.encode()})


@pytest.mark.unpatched_moto_too
def test_a_late_put_does_not_resurrect_a_deleted_post(pipeline: Pipeline) -> None:
    pipeline.put(OTHER_KEY, OTHER)
    put = pipeline.put(KEY, FIRST, deliver=False)
    deletion = pipeline.delete(KEY, deliver=False)

    pipeline.deliver(deletion)
    late = pipeline.deliver(put)
    pipeline.build()

    assert outcomes(late) == ["stale"]
    assert pipeline.site_objects() == expected_site({OTHER_KEY: OTHER.encode()})


def test_stale_events_are_counted_and_logged_never_rendered(
    pipeline: Pipeline,
    render_handler: Handler,
    structured_logs: LogCapture,
    capsys: Any,
) -> None:
    older = pipeline.put(KEY, FIRST, deliver=False)
    newer = pipeline.put(KEY, SECOND, deliver=False)
    render_handler(newer, lambda_context("render-post"))
    capsys.readouterr()
    site_before = pipeline.site_objects()

    answer = render_handler(older, lambda_context("render-post"))
    printed = capsys.readouterr().out

    assert outcomes(answer) == ["stale"]
    assert metric_values(emf_documents(printed)) == {"Stale": 1}  # no page written
    assert pipeline.site_objects() == site_before
    version = older["Records"][0]["s3"]["object"]["versionId"]
    stale_lines = [line for line in structured_logs.lines if line["message"] == "post stale"]
    assert len(stale_lines) == 1
    assert stale_lines[0]["level"] == "WARNING"
    assert stale_lines[0]["correlation_id"] == f"{KEY}@{version}"
    assert stale_lines[0]["version_id"] == version


def test_an_update_below_the_excerpt_reaches_the_full_content_feeds(pipeline: Pipeline) -> None:
    pipeline.put(KEY, SECOND)
    pipeline.build()

    revised = SECOND.replace("The rest of the post.", "The rest of the post, revised.")
    pipeline.put(KEY, revised)
    pipeline.build()

    site = pipeline.site_objects()
    assert b"revised" in site["atom.xml"]
    assert site == expected_site({KEY: revised.encode()})
