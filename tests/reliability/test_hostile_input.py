"""Issue 16: hostile and oversized files, generated here, each end as published-and-safe or
rejected-with-reason with a bounded record; none raises (Lambda would retry, then dead-letter).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from blogpub import keys
from blogpub.errors import QUOTED_CHARACTERS
from blogpub.markup import MAX_NESTING_DEPTH
from blogpub.reader import MAX_NAME_CHARACTERS
from blogpub.table import EventRecord, PostTable, item_size, to_item
from blogpub.urls import MAX_SLUG_BYTES

from tests.integration.harness import TABLE, Pipeline, s3_event
from tests.reliability.posts import hexo_post

HEAD = "---\ntitle: Hostile\ndate: 2024-04-01 12:00:00\n"
# A failure record quotes at most QUOTED_CHARACTERS of a value plus a bounded message.
MAX_RECORD_BYTES = 4096


def laughs(levels: int = 9) -> str:
    """The billion-laughs shape: each anchor repeats the one before ten times."""
    lines = ['a0: &a0 "lol"']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Rejected:
    name: str
    build: Callable[[], bytes]
    reason: str
    key: str = ""


REJECTED = [
    Rejected(
        "long-integer",
        (HEAD + "n: 0x" + "f" * 4000 + "\n---\nb\n").encode,
        "bad-field-type",
    ),
    Rejected(
        "laughs-in-title",
        ("---\n" + laughs() + "title: *a9\ndate: 2024-01-01\n---\nb\n").encode,
        "too-large",
    ),
    Rejected(
        "laughs-in-date",
        ("---\n" + laughs() + "title: x\ndate: *a9\n---\nb\n").encode,
        "too-large",
    ),
    Rejected(
        "laughs-in-categories",
        ("---\n" + laughs() + "title: x\ndate: 2024-01-01\ncategories: *a9\n---\nb\n").encode,
        "too-large",
    ),
    Rejected("recursive-alias", (HEAD + "loop: &l [*l]\n---\nb\n").encode, "bad-front-matter"),
    Rejected(
        "title-500-kb",
        ("---\ntitle: " + "t" * 500_000 + "\ndate: 2024-01-01\n---\nb\n").encode,
        "too-large",
    ),
    Rejected(
        "tags-40-kb-each",
        (
            HEAD
            + "tags:\n"
            + "".join(f"  - {chr(97 + i) * 40_000}\n" for i in range(11))
            + "---\nb\n"
        ).encode,
        "too-large",
    ),
    Rejected("duplicate-key", (HEAD + "title: again\n---\nb\n").encode, "bad-front-matter"),
    Rejected(
        "nested-quotes-32k",
        (HEAD + "---\n" + "> " * 32_000 + "deep\n").encode,
        "too-deep",
    ),
    Rejected("nested-divs", (HEAD + "---\n" + "<div>" * 20_000 + "x\n").encode, "too-deep"),
    Rejected(
        "nested-lists",
        (HEAD + "---\n" + "".join("  " * i + "- x\n" for i in range(600))).encode,
        "too-deep",
    ),
    Rejected(
        "source-key-1000-bytes",
        lambda: hexo_post("Long key").encode(),
        "key-too-long",
        "_posts/" + "k" * 990 + ".md",
    ),
    Rejected(
        "page-key-over-1024",
        (HEAD + "permalink: " + "p/" * 520 + "\n---\nb\n").encode,
        "key-too-long",
    ),
]


def failures_of(pipeline: Pipeline, key: str) -> list[EventRecord]:
    table = PostTable(pipeline.dynamodb, TABLE)
    return [failure for failure in table.recent_failures(100) if failure.source_key == key]


def no_retry(result: dict[str, object]) -> None:
    assert not result.get("batchItemFailures"), result


@pytest.mark.parametrize("case", REJECTED, ids=[case.name for case in REJECTED])
def test_each_hostile_file_is_a_bounded_recorded_rejection(
    pipeline: Pipeline, case: Rejected
) -> None:
    key = case.key or f"_posts/hostile/{case.name}.md"
    site_before = pipeline.site_objects()

    event = pipeline.put(key, case.build())
    result = pipeline.render_results[-1]
    pipeline.build()

    no_retry(result)
    (outcome,) = result["results"]
    assert (outcome["outcome"], outcome["reason"]) == ("rejected", case.reason), outcome["error"]
    (failure,) = failures_of(pipeline, key)
    assert failure.reason == case.reason
    assert failure.version_id == event["Records"][0]["s3"]["object"]["versionId"]
    item = next(
        item
        for item in pipeline.dynamodb.scan(TableName=TABLE)["Items"]
        if item[keys.PK]["S"] == keys.FAIL_PK and item["source_key"]["S"] == key
    )
    assert item_size(item) <= MAX_RECORD_BYTES + len(key.encode())
    assert failure.error is not None and len(failure.error) <= 1500 + len(key)
    assert pipeline.site_objects() == site_before


def feeds_and_sitemaps(pipeline: Pipeline) -> dict[str, bytes]:
    return {
        name: body for name, body in pipeline.site_objects().items() if name.endswith((".xml",))
    }


def test_control_and_invisible_characters_publish_safely(pipeline: Pipeline) -> None:
    source = (
        '---\ntitle: "Bell\\x01 and \\x1f"\ndate: 2024-04-01 12:00:00\nauthor: "Ann\\x02"\n'
        'categories: ["Ne\\u200bws\\u202e"]\ntags: ["' + "long tag " * 20 + '", "x\\x07y"]\n---\n'
        'Body \x01 with a control\n\n<p title="x<!-- more --><img src=x onerror=alert(1)>">t</p>\n'
    )
    key = "_posts/hostile/controls.md"

    pipeline.put(key, source.encode())
    result = pipeline.render_results[-1]
    pipeline.build()

    no_retry(result)
    (outcome,) = result["results"]
    assert outcome["outcome"] == "published", outcome
    xml_files = feeds_and_sitemaps(pipeline)
    assert "atom.xml" in xml_files
    assert any(name.startswith("categories/News/") for name in xml_files), sorted(xml_files)
    for name, body in xml_files.items():
        ET.fromstring(body)  # raises on any character XML 1.0 forbids
        assert b"\x01" not in body and "\u200b".encode() not in body, name
    page = pipeline.site_objects()[outcome["url"].lstrip("/") + "index.html"].decode()
    assert not re.search(r"<[a-z][^>]*\son[a-z]+=", page)
    record = PostTable(pipeline.dynamodb, TABLE).get_post(key)
    assert record is not None
    slugs = [ref.list_id for ref in record.lists]
    assert all(len(slug.encode()) <= MAX_SLUG_BYTES + 16 for slug in slugs), slugs
    assert item_size(to_item(record.to_values())) < 400 * 1024


def test_names_at_the_length_limit_publish(pipeline: Pipeline) -> None:
    names = [chr(0x4E00 + i) * MAX_NAME_CHARACTERS for i in range(10)]
    key = "_posts/hostile/long-names.md"
    pipeline.put(key, hexo_post("Long names", tags=names).encode())
    result = pipeline.render_results[-1]
    pipeline.build()
    no_retry(result)
    (outcome,) = result["results"]
    assert outcome["outcome"] == "published", outcome
    for ref in PostTable(pipeline.dynamodb, TABLE).get_post(key).lists:  # type: ignore[union-attr]
        assert len(ref.list_id.encode()) <= len("tag/") + MAX_SLUG_BYTES


def test_a_value_in_a_message_is_quoted_cut(pipeline: Pipeline) -> None:
    key = "_posts/hostile/bad-date.md"
    pipeline.put(key, ("---\ntitle: x\ndate: " + "9" * 3000 + "z\n---\nb\n").encode())
    (outcome,) = pipeline.render_results[-1]["results"]
    assert outcome["outcome"] == "rejected"
    assert "characters)" in outcome["error"]
    assert len(outcome["error"]) < QUOTED_CHARACTERS + 1000
    assert MAX_NESTING_DEPTH == 256


def test_a_forged_event_cannot_outrank_later_uploads(pipeline: Pipeline) -> None:
    """An invocation naming a version the bucket does not have is dropped before its
    sequencer is taken; the next genuine upload publishes."""
    key = "_posts/hostile/forged.md"
    pipeline.put(key, hexo_post("Genuine").encode())
    genuine = PostTable(pipeline.dynamodb, TABLE).get_post(key)
    assert genuine is not None
    for kind in ("ObjectRemoved:DeleteMarkerCreated", "ObjectCreated:Put"):
        forged = s3_event(key, kind, "forged-version", 0xFFFFFFFFFFFF)
        (outcome,) = pipeline.deliver(forged)["results"]
        assert outcome["outcome"] == "stale", outcome
    record = PostTable(pipeline.dynamodb, TABLE).get_post(key)
    assert record is not None and record.status == "published"
    assert (record.sequencer, record.version_id) == (genuine.sequencer, genuine.version_id)

    pipeline.put(key, hexo_post("Genuine, edited").encode())
    (outcome,) = pipeline.render_results[-1]["results"]
    assert outcome["outcome"] == "published"
