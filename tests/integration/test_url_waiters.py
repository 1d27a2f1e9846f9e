"""A publish rejected as url-conflict waits for the URL (a WAITING# item, a ``waited`` flag on
the claim): when the owner gives the URL up, the index builder re-renders the waiters, so
renaming a post with a fixed permalink gives the clean site in either event order (moto)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from blogpub import keys
from blogpub.table import WAITED, from_item

from tests.integration.harness import TABLE
from tests.integration.test_post_links import LinkPipeline, clean_site, fresh_stack
from tests.reliability.posts import hexo_post

OLD = "_posts/first-name.md"
NEW = "_posts/second-name.md"
URL = "/fixed/hello/"
POST = hexo_post("Hello", "2024-03-01 09:00:00", extra="permalink: fixed/hello/")


def items_of(pipeline: LinkPipeline, kind: str) -> list[dict[str, Any]]:
    items = [from_item(item) for item in pipeline.dynamodb.scan(TableName=TABLE)["Items"]]
    return [item for item in items if keys.partition_of(item[keys.PK])[0] == kind]


def deliver_twice(pipeline: LinkPipeline, event: dict[str, Any]) -> list[dict[str, Any]]:
    return [pipeline.deliver(event)["results"][0] for _ in range(2)]


def new_key_first(pipeline: LinkPipeline) -> None:
    put, delete = pipeline.put(NEW, POST, deliver=False), pipeline.delete(OLD, deliver=False)
    outcomes = deliver_twice(pipeline, put)
    assert [(o["outcome"], o["reason"]) for o in outcomes] == [
        ("rejected", "url-conflict"),
        ("stale", None),  # the repeat: already decided
    ]
    record = pipeline.table.get_post(NEW)
    assert record is not None and record.waiting_for == URL
    assert pipeline.table.waiters_for(URL) == [NEW]
    deliver_twice(pipeline, delete)


def delete_first(pipeline: LinkPipeline) -> None:
    put, delete = pipeline.put(NEW, POST, deliver=False), pipeline.delete(OLD, deliver=False)
    deliver_twice(pipeline, delete)
    assert [o["outcome"] for o in deliver_twice(pipeline, put)] == ["published", "stale"]


def new_key_first_settled_between(pipeline: LinkPipeline) -> None:
    pipeline.put(NEW, POST)
    pipeline.settle(twice=True)
    assert pipeline.site_objects().get("fixed/hello/index.html") is not None
    pipeline.delete(OLD)


Steps = Callable[[LinkPipeline], None]


@pytest.mark.parametrize("steps", [new_key_first, delete_first, new_key_first_settled_between])
def test_a_rename_with_a_fixed_permalink_gives_the_clean_site_in_any_order(
    aws_env: None, steps: Steps
) -> None:
    with fresh_stack() as pipeline:
        pipeline.put(OLD, POST)
        pipeline.settle()
        steps(pipeline)
        pipeline.settle(twice=True)

        record = pipeline.table.get_post(NEW)
        assert record is not None and record.status == "published" and record.url == URL
        assert record.waiting_for is None
        assert items_of(pipeline, "url_waiter") == []
        (claim,) = items_of(pipeline, "url_claim")
        assert claim["owner"] == NEW
        site = pipeline.site_objects()
    assert site == clean_site({NEW: POST})


def test_a_waiter_still_in_conflict_waits_again_until_the_url_is_free(aws_env: None) -> None:
    third = "_posts/third-name.md"
    with fresh_stack() as pipeline:
        pipeline.put(OLD, POST)
        pipeline.put(NEW, POST)
        pipeline.put(third, POST)
        pipeline.settle()
        assert pipeline.table.waiters_for(URL) == [NEW, third]

        pipeline.delete(OLD)
        pipeline.settle(twice=True)
        # Both were re-rendered: one won the URL, the other lost again and waits again.
        records = pipeline.table.get_posts([NEW, third])
        (winner,) = [key for key, record in records.items() if record.status == "published"]
        (loser,) = {NEW, third} - {winner}
        assert records[loser].waiting_for == URL
        assert records[loser].last_error_reason == "url-conflict"
        assert pipeline.table.waiters_for(URL) == [loser]
        (claim,) = items_of(pipeline, "url_claim")
        assert claim["owner"] == winner and claim[WAITED] is True

        pipeline.delete(winner)
        pipeline.settle(twice=True)
        record = pipeline.table.get_post(loser)
        assert record is not None and record.status == "published" and record.url == URL
        assert pipeline.table.waiters_for(URL) == []
        site = pipeline.site_objects()
    assert site == clean_site({loser: POST})


def test_a_waiter_that_moves_elsewhere_or_is_deleted_stops_waiting(aws_env: None) -> None:
    elsewhere = hexo_post("Hello", "2024-03-01 09:00:00", extra="permalink: other/hello/")
    with fresh_stack() as pipeline:
        pipeline.put(OLD, POST)
        pipeline.put(NEW, POST)
        pipeline.settle()
        assert pipeline.table.waiters_for(URL) == [NEW]

        pipeline.put(NEW, elsewhere)
        assert pipeline.table.waiters_for(URL) == []
        pipeline.put(NEW, POST)
        assert pipeline.table.waiters_for(URL) == [NEW]
        pipeline.delete(NEW)
        assert pipeline.table.waiters_for(URL) == []
        pipeline.settle(twice=True)

        # The claim keeps its flag, but freeing it finds no waiter and re-renders nothing.
        pipeline.delete(OLD)
        pipeline.settle()
        assert pipeline.build_reports[-1]["posts_rerendered"] == []
        assert items_of(pipeline, "url_claim") == []
        assert "fixed/hello/index.html" not in pipeline.site_objects()


def test_a_publish_without_conflict_writes_no_wait(aws_env: None) -> None:
    with fresh_stack() as pipeline:
        pipeline.put(OLD, POST)
        pipeline.settle()
        (claim,) = items_of(pipeline, "url_claim")
        assert WAITED not in claim
        assert items_of(pipeline, "url_waiter") == []
