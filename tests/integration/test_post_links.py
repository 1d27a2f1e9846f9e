"""post_link / post_path through the table (issue 14): names resolve to published posts, the
reverse links re-render the posts that link to a target when it is published, moved or
deleted, so upload order never changes the final site (moto, in process)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from blogpub import keys, service
from blogpub.publish import linked_names
from blogpub.table import MAX_LINKED_POSTS, PostTable, from_item
from blogpub_local.sqs_poller import lambda_sqs_record
from moto import mock_aws

from tests.integration.harness import REGION, TABLE, Pipeline
from tests.reliability.posts import hexo_post

QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:blogpub-rebuild"
TARGET = "_posts/guides/hello-world.md"
LINKER = "_posts/linker.md"
LINKER_BODY = (
    "See {% post_link guides/hello-world %} and {% post_link guides/hello-world 'the guide' %}.\n\n"
    'Its address: <a href="{% post_path guides/hello-world %}">here</a>.\n'
)


def target_post(title: str = "Hello World", extra: str = "") -> str:
    return hexo_post(title, "2024-03-01 09:00:00", extra=extra)


def linker_post() -> str:
    return hexo_post("Linker", "2024-03-02 09:00:00", body=LINKER_BODY)


class LinkPipeline(Pipeline):
    """The pipeline with RebuildQueue, which carries the re-renders of linking posts."""

    def __init__(self) -> None:
        super().__init__()
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="blogpub-rebuild")["QueueUrl"]
        os.environ["REBUILD_QUEUE_URL"] = self.queue_url
        self.table = PostTable(self.dynamodb, TABLE)

    def drain(self, *, twice: bool = False) -> int:
        """Deliver every queued message to the render function (``twice``: each one again,
        as an at-least-once queue may)."""
        delivered = 0
        while messages := self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10
        ).get("Messages", []):
            records = [lambda_sqs_record(message, QUEUE_ARN, REGION) for message in messages]
            for _ in range(2 if twice else 1):
                self.deliver({"Records": records})
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
            delivered += len(messages)
        return delivered

    def settle(self, *, twice: bool = False) -> None:
        """Stream batches and queued re-renders until nothing is left."""
        for _ in range(10):
            records = list(self.stream_records())
            if not records:
                if not self.drain(twice=twice):
                    return
                continue
            for _ in range(2 if twice else 1):
                self.build_reports.append(self.build_records(records))
        raise AssertionError("the pipeline did not settle")

    def build_records(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        from blogpub import service

        return service.build_indexes_event({"Records": records})


@contextmanager
def fresh_stack() -> Iterator[LinkPipeline]:
    with mock_aws():
        yield LinkPipeline()


def clean_site(files: dict[str, str]) -> dict[str, bytes]:
    """The site a fresh stack makes of ``files``, uploaded in key order."""
    with fresh_stack() as pipeline:
        for key in sorted(files):
            pipeline.put(key, files[key])
        pipeline.settle()
        return pipeline.site_objects()


def page_of(pipeline: Pipeline, url: str) -> str:
    return pipeline.site_objects()[url.strip("/") + "/index.html"].decode("utf-8")


def linker_url(pipeline: LinkPipeline) -> str:
    record = pipeline.table.get_post(LINKER)
    assert record is not None and record.url is not None
    return record.url


Steps = Callable[[LinkPipeline], None]


def target_first(pipeline: LinkPipeline) -> None:
    pipeline.put(TARGET, target_post())
    pipeline.settle()
    pipeline.put(LINKER, linker_post())


def link_first(pipeline: LinkPipeline) -> None:
    pipeline.put(LINKER, linker_post())
    pipeline.settle()
    pipeline.put(TARGET, target_post())


def both_before_any_build(pipeline: LinkPipeline) -> None:
    pipeline.put(LINKER, linker_post())
    pipeline.put(TARGET, target_post())


@pytest.mark.parametrize("steps", [target_first, link_first, both_before_any_build])
@pytest.mark.parametrize("twice", [False, True], ids=["once", "every-delivery-twice"])
def test_either_upload_order_gives_the_clean_site(aws_env: None, steps: Steps, twice: bool) -> None:
    with fresh_stack() as pipeline:
        steps(pipeline)
        pipeline.settle(twice=twice)

        page = page_of(pipeline, linker_url(pipeline))
        link = '<a href="/2024/03/01/guides/hello-world/" title="Hello World">Hello World</a>'
        assert link in page
        assert 'title="Hello World">the guide</a>' in page
        assert 'href="/2024/03/01/guides/hello-world/">here</a>' in page
        site = pipeline.site_objects()
    assert site == clean_site({TARGET: target_post(), LINKER: linker_post()})


def test_a_link_to_an_unpublished_post_shows_its_text_and_is_pending(aws_env: None) -> None:
    with fresh_stack() as pipeline:
        result = pipeline.put(LINKER, linker_post(), deliver=False)
        (published,) = pipeline.deliver(result)["results"]
        pipeline.settle()

        assert published["outcome"] == "published"
        assert published["pending_links"] == ["guides/hello-world"]
        record = pipeline.table.get_post(LINKER)
        assert record is not None and record.pending_links == ("guides/hello-world",)
        page = page_of(pipeline, linker_url(pipeline))
        assert "See guides/hello-world and the guide." in page
        assert "hello-world/" not in page.split("See ", 1)[1].split("</article>")[0]
        assert "{%" not in page


def test_a_target_title_change_re_renders_the_linking_post(aws_env: None) -> None:
    with fresh_stack() as pipeline:
        target_first(pipeline)
        pipeline.settle()
        pipeline.put(TARGET, target_post("Hello Again"))
        pipeline.settle()

        assert 'title="Hello Again">Hello Again</a>' in page_of(pipeline, linker_url(pipeline))
        reports = pipeline.build_reports
        assert [key for report in reports for key in report["posts_rerendered"]] == [LINKER]
        site = pipeline.site_objects()
    assert site == clean_site({TARGET: target_post("Hello Again"), LINKER: linker_post()})


def test_a_target_moved_by_its_permalink_re_renders_the_linking_post(aws_env: None) -> None:
    with fresh_stack() as pipeline:
        link_first(pipeline)
        pipeline.settle()
        moved = target_post(extra="permalink: guides/hello/")
        pipeline.put(TARGET, moved)
        pipeline.settle()

        page = page_of(pipeline, linker_url(pipeline))
        assert '<a href="/guides/hello/" title="Hello World">Hello World</a>' in page
        site = pipeline.site_objects()
    assert site == clean_site({TARGET: moved, LINKER: linker_post()})


def test_a_renamed_target_file_leaves_the_old_name_pending(aws_env: None) -> None:
    with fresh_stack() as pipeline:
        target_first(pipeline)
        pipeline.settle()
        renamed = "_posts/guides/hello-there.md"
        pipeline.put(renamed, target_post())
        pipeline.delete(TARGET)
        pipeline.settle()

        assert "See guides/hello-world and the guide." in page_of(pipeline, linker_url(pipeline))
        site = pipeline.site_objects()
    assert site == clean_site({renamed: target_post(), LINKER: linker_post()})


def test_a_deleted_target_turns_its_links_back_into_text(aws_env: None) -> None:
    with fresh_stack() as pipeline:
        target_first(pipeline)
        pipeline.settle()
        pipeline.delete(TARGET)
        pipeline.settle()

        record = pipeline.table.get_post(LINKER)
        assert record is not None and record.pending_links == ("guides/hello-world",)
        site = pipeline.site_objects()
    assert site == clean_site({LINKER: linker_post()})


def test_a_deleted_linker_leaves_no_reverse_link(aws_env: None) -> None:
    with fresh_stack() as pipeline:
        target_first(pipeline)
        pipeline.settle()
        assert pipeline.table.linkers_of("guides/hello-world") == [LINKER]

        pipeline.delete(LINKER)
        pipeline.settle()

        assert pipeline.table.linkers_of("guides/hello-world") == []
        site = pipeline.site_objects()
    assert site == clean_site({TARGET: target_post()})


def test_a_full_source_key_names_the_same_post(aws_env: None) -> None:
    body = "By key: {% post_link _posts/guides/hello-world.md %}.\n"
    with fresh_stack() as pipeline:
        pipeline.put(LINKER, hexo_post("Linker", "2024-03-02 09:00:00", body=body))
        pipeline.settle()
        pipeline.put(TARGET, target_post())
        pipeline.settle()

        page = page_of(pipeline, linker_url(pipeline))
        assert 'By key: <a href="/2024/03/01/guides/hello-world/" title="Hello World">' in page
        assert linked_names(body, "_posts/") == ("guides/hello-world",)


def test_a_post_linking_to_itself_shows_its_own_new_url(aws_env: None) -> None:
    body = "Here: {% post_path guides/hello-world %}\n"
    with fresh_stack() as pipeline:
        pipeline.put(TARGET, hexo_post("Hello World", "2024-03-01 09:00:00", body=body))
        pipeline.settle()

        assert "Here: /2024/03/01/guides/hello-world/" in page_of(
            pipeline, "/2024/03/01/guides/hello-world/"
        )


def test_two_files_with_one_post_name_reject_the_second_with_the_owner(aws_env: None) -> None:
    with fresh_stack() as pipeline:
        pipeline.put(TARGET, target_post())
        other = hexo_post("Other", "2024-05-01 09:00:00")
        event = pipeline.put("_posts/guides/hello-world.markdown", other, deliver=False)
        (result,) = pipeline.deliver(event)["results"]

        assert result["outcome"] == "rejected"
        assert result["reason"] == "name-conflict"
        assert TARGET in result["error"] and "'guides/hello-world'" in result["error"]


def test_reverse_links_are_bounded_per_post(aws_env: None) -> None:
    extra = 3
    names = [f"t{index:02d}" for index in range(MAX_LINKED_POSTS + extra)]
    with fresh_stack() as pipeline:
        for index, name in enumerate(names):
            pipeline.put(f"_posts/{name}.md", hexo_post(f"T {index}", "2024-02-01 09:00:00"))
        body = "".join(f"- {{% post_link {name} %}}\n" for name in names)
        pipeline.put(LINKER, hexo_post("Linker", "2024-03-02 09:00:00", body=body))
        pipeline.settle()

        record = pipeline.table.get_post(LINKER)
        assert record is not None
        assert [link.target for link in record.links] == names[:MAX_LINKED_POSTS]
        assert all(link.url for link in record.links)
        page = page_of(pipeline, linker_url(pipeline))
        # Past the bound a name is shown as its text, like a pending link, in any upload order.
        assert f"<li>{names[-1]}</li>" in page
        assert f'title="T {MAX_LINKED_POSTS - 1}">' in page
        assert pipeline.table.linkers_of(names[-1]) == []
        assert pipeline.table.linkers_of(names[0]) == [LINKER]


def test_an_unlinked_post_claims_its_name_and_leaves_no_link_items(aws_env: None) -> None:
    with fresh_stack() as pipeline:
        pipeline.put(TARGET, target_post())
        pipeline.settle()

        items = [from_item(item) for item in pipeline.dynamodb.scan(TableName=TABLE)["Items"]]
        kinds = {keys.partition_of(item[keys.PK])[0] for item in items}
        assert "reverse_link" not in kinds
        (name,) = [item for item in items if keys.partition_of(item[keys.PK])[0] == "post_name"]
        assert name["owner"] == TARGET and name["url"] == "/2024/03/01/guides/hello-world/"
        assert "linked" not in name
        assert json.dumps(pipeline.build_reports[-1]["posts_rerendered"]) == "[]"


def test_a_target_published_between_render_and_commit_is_caught_by_the_link_check(
    aws_env: None,
) -> None:
    """The linker renders the name as pending; the target commits before the linker does.
    The linker's transaction sees the name moved, decides again and links it."""
    with fresh_stack() as pipeline:
        target_event = pipeline.put(TARGET, target_post(), deliver=False)
        dynamodb = service.runtime().dynamodb
        interleaved: list[str] = []

        def publish_target_first(params: dict[str, Any], **_: Any) -> None:
            if not interleaved and LINKER in str(params.get("body", "")):
                interleaved.append("target")
                pipeline.deliver(target_event)

        dynamodb.meta.events.register(
            "before-call.dynamodb.TransactWriteItems", publish_target_first
        )
        try:
            pipeline.put(LINKER, linker_post())
        finally:
            dynamodb.meta.events.unregister(
                "before-call.dynamodb.TransactWriteItems", publish_target_first
            )
        assert interleaved == ["target"]
        record = pipeline.table.get_post(LINKER)
        assert record is not None and record.pending_links == ()
        pipeline.settle()
        site = pipeline.site_objects()
    assert site == clean_site({TARGET: target_post(), LINKER: linker_post()})
