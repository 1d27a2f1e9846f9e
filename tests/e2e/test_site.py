"""The real pipeline end to end: upload through S3, read the site as CloudFront serves it."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from blogpub.reader import read_post
from blogpub.settings import Settings
from blogpub.table import PostTable
from blogpub.urls import category_refs, landing_url
from blogpub_local.stack import LocalStack

from tests.conftest import SEED_POST
from tests.e2e.conftest import http_get, s3_client

pytestmark = pytest.mark.e2e

SEED_KEY = "_posts/000_d87f2d6de0cb2939.md"
CJK_KEY = "_posts/随笔 集/你好 世界.md"
CJK_POST = """---
title: 你好，世界 with spaces
date: 2023-04-05 06:07:08
categories: [随笔, 日常 生活]
---

正文第一段。
"""


def page_url(stack: LocalStack, path: str) -> str:
    assert stack.info is not None
    return stack.info.site_url + quote(path)


def post_item_url(stack: LocalStack, key: str) -> str:
    assert stack.info is not None
    record = PostTable(stack.clients["dynamodb"], stack.info.table).get_post(key)
    assert record is not None and record.url is not None
    return record.url


def upload(stack: LocalStack, key: str, body: bytes) -> None:
    assert stack.info is not None
    s3_client(stack).put_object(Bucket=stack.info.source_bucket, Key=key, Body=body)
    assert stack.wait_until_idle(120)


@pytest.fixture(scope="module")
def seeded(stack: LocalStack) -> LocalStack:
    upload(stack, SEED_KEY, SEED_POST.read_bytes())
    return stack


def test_seed_post_page_is_served(seeded: LocalStack) -> None:
    url = post_item_url(seeded, SEED_KEY)
    page = http_get(page_url(seeded, url))
    assert page.status == 200
    assert page.content_type.startswith("text/html")
    assert "李文艺主持召开疫情防控视频调度会议" in page.text
    assert 'referrerpolicy="no-referrer"' in page.text
    without_slash = http_get(page_url(seeded, url.rstrip("/")))
    assert without_slash.status == 200 and without_slash.body == page.body
    head = http_get(page_url(seeded, url), method="HEAD")
    assert (head.status, head.body) == (200, b"")


def test_seed_post_category_pages_list_it(seeded: LocalStack) -> None:
    post = read_post(SEED_POST.read_bytes(), SEED_KEY, Settings())
    refs = category_refs(post, Settings())
    assert len(refs) == 3  # 新媒体 > 趣头条 > 分类: listed on every level
    for ref in refs:
        page = http_get(page_url(seeded, landing_url(ref)))
        assert page.status == 200, landing_url(ref)
        assert page.content_type.startswith("text/html")
        assert "李文艺主持召开疫情防控视频调度会议" in page.text


def test_cjk_key_with_spaces_is_published(stack: LocalStack) -> None:
    upload(stack, CJK_KEY, CJK_POST.encode("utf-8"))
    url = post_item_url(stack, CJK_KEY)
    assert "你好 世界" in url
    page = http_get(page_url(stack, url))
    assert page.status == 200
    assert "你好，世界 with spaces" in page.text


def test_deleted_post_answers_the_404_page(stack: LocalStack) -> None:
    key = "_posts/short-lived.md"
    upload(stack, key, b"---\ntitle: Short lived\ndate: 2024-01-02\n---\nsoon gone\n")
    url = post_item_url(stack, key)
    assert http_get(page_url(stack, url)).status == 200
    assert stack.info is not None
    s3_client(stack).delete_object(Bucket=stack.info.source_bucket, Key=key)
    assert stack.wait_until_idle(120)
    gone = http_get(page_url(stack, url))
    assert gone.status == 404
    assert gone.content_type.startswith("text/html")
    assert gone.body == http_get(page_url(stack, "/404.html")).body
    assert b"Short lived" not in gone.body


def test_no_invocation_failed_for_good(stack: LocalStack) -> None:
    """Everything above went through without a dead-lettered event or stream batch."""
    failed = [result.payload for _, result in stack.invoker.results if result.failed]
    abandoned = [batch for poller in stack.stream_pollers for batch in poller.abandoned_batches]
    assert failed == [] and abandoned == []
