"""Invariant 7: bad input gets a clear recorded error naming the file, and nothing else changes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from blogpub import keys
from blogpub.config import DEFAULT_MAX_POST_BYTES
from blogpub.reader import MAX_CATEGORY_NODES, MAX_TAGS
from blogpub.status import recent_failures
from blogpub.table import MAX_LISTINGS, WAITED, EventRecord, PostTable

from tests.integration.harness import TABLE, Pipeline
from tests.integration.test_pipeline import expected_site
from tests.reliability.posts import hexo_post

OWNER_KEY = "_posts/city/porto.md"
OWNER = hexo_post("Porto by the river", categories=["Travel"], extra="permalink: porto/")
NEIGHBOUR_KEY = "_posts/city/braga.md"
NEIGHBOUR = hexo_post("Braga on a Sunday", "2024-02-11 09:00:00", categories=["Travel"])
GOOD_HEAD = "---\ntitle: A post\ndate: 2024-04-01 12:00:00\n"


@dataclass(frozen=True)
class BadInput:
    name: str
    body: bytes
    reason: str
    says: str  # part of the message that names the problem


BAD_INPUTS = [
    BadInput(
        "not-utf8", b"---\ntitle: caf\xe9\ndate: 2024-01-01\n---\nbody", "not-utf8", "not UTF-8"
    ),
    BadInput("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "not-utf8", "binary file"),
    BadInput("empty", b"", "bad-front-matter", "the file is empty"),
    BadInput(
        "no-closing-fence",
        (GOOD_HEAD + "\nThe body starts here.\n").encode(),
        "bad-front-matter",
        "no closing `---`",
    ),
    BadInput(
        "broken-yaml",
        b"---\ntitle: [unclosed\ndate: 2024-01-01\n---\nbody\n",
        "bad-front-matter",
        "not valid YAML",
    ),
    BadInput("list", b"---\n- one\n- two\n---\nbody\n", "bad-front-matter", "not a list"),
    BadInput("scalar", b"---\njust a sentence\n---\nbody\n", "bad-front-matter", "not a str"),
    BadInput(
        "bad-date",
        b"---\ntitle: When\ndate: next tuesday\n---\nbody\n",
        "bad-date",
        "'date' = 'next tuesday'",
    ),
    BadInput(
        "categories-mapping",
        (GOOD_HEAD + "categories: {Travel: 1}\n---\nbody\n").encode(),
        "bad-field-type",
        "'categories'",
    ),
    BadInput(
        "tags-nested-list",
        (GOOD_HEAD + "tags: [[a, b]]\n---\nbody\n").encode(),
        "bad-field-type",
        "'tags'",
    ),
    BadInput(
        "permalink-dotdot",
        (GOOD_HEAD + "permalink: ../../etc/\n---\nbody\n").encode(),
        "bad-permalink",
        ". or .. segments",
    ),
    BadInput(
        "permalink-absolute",
        (GOOD_HEAD + "permalink: https://evil.example/x/\n---\nbody\n").encode(),
        "bad-permalink",
        "not an absolute URL",
    ),
    BadInput(
        "url-owned-by-another-post",
        (GOOD_HEAD + "permalink: porto/\n---\nbody\n").encode(),
        "url-conflict",
        f"URL /porto/ is already owned by {OWNER_KEY}",
    ),
    BadInput(
        "over-the-size-limit",
        (GOOD_HEAD + "---\n").encode() + b"x" * DEFAULT_MAX_POST_BYTES,
        "too-large",
        f"over the {DEFAULT_MAX_POST_BYTES}-byte limit",
    ),
]


def derived_state(pipeline: Pipeline, *, besides: str) -> set[tuple[str, str, str]]:
    """Every table item but the event logs, the post record of ``besides``, the wait of a
    url-conflict rejection (its waiter item, the claim's ``waited`` flag: tested below) and
    the index builder's page states (what it last wrote to the site, whose pages are compared
    byte for byte: a page whose counter moved is rewritten with the same bytes, as before)."""
    skipped = {keys.FAIL_PK, keys.ACTIVITY_PK, keys.post_pk(besides)}
    paginator = pipeline.dynamodb.get_paginator("scan")
    return {
        (
            item[keys.PK]["S"],
            item[keys.SK]["S"],
            repr(sorted((k, v) for k, v in item.items() if k != WAITED)),
        )
        for page in paginator.paginate(TableName=TABLE)
        for item in page["Items"]
        if item[keys.PK]["S"] not in skipped
        and keys.partition_of(item[keys.PK]["S"])[0] not in ("url_waiter", "page_state")
    }


@pytest.fixture
def published(pipeline: Pipeline) -> Pipeline:
    pipeline.put(OWNER_KEY, OWNER)
    pipeline.put(NEIGHBOUR_KEY, NEIGHBOUR)
    pipeline.build()
    return pipeline


def failure_items(pipeline: Pipeline, key: str) -> list[EventRecord]:
    return [
        failure
        for failure in PostTable(pipeline.dynamodb, TABLE).recent_failures(100)
        if failure.source_key == key
    ]


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[bad.name for bad in BAD_INPUTS])
def test_a_bad_new_post_is_rejected_with_a_recorded_error(
    published: Pipeline, bad: BadInput
) -> None:
    key = f"_posts/inbox/{bad.name}.md"
    site_before = published.site_objects()
    table_before = derived_state(published, besides=key)

    event = published.put(key, bad.body)
    published.build()

    version = event["Records"][0]["s3"]["object"]["versionId"]
    (result,) = published.render_results[-1]["results"]
    assert (result["outcome"], result["reason"]) == ("rejected", bad.reason)
    (failure,) = failure_items(published, key)
    assert failure.reason == bad.reason
    assert failure.version_id == version
    assert failure.error is not None and failure.error.startswith(f"{key}: ")
    assert bad.says in failure.error
    record = PostTable(published.dynamodb, TABLE).get_post(key)
    assert record is not None
    assert (record.status, record.last_outcome) == ("absent", "rejected")
    assert record.last_error == failure.error
    assert record.last_version_id == version
    assert published.site_objects() == site_before
    assert derived_state(published, besides=key) == table_before
    waiting = PostTable(published.dynamodb, TABLE).waiters_for("/porto/")
    assert waiting == ([key] if bad.reason == "url-conflict" else [])
    listed = recent_failures(PostTable(published.dynamodb, TABLE), 5)
    assert (listed[0].source_key, listed[0].reason) == (key, bad.reason)


def test_a_draft_or_hidden_key_is_ignored_without_an_error(published: Pipeline) -> None:
    site_before = published.site_objects()
    table_before = derived_state(published, besides="_drafts/porto.md")

    published.put("_drafts/porto.md", OWNER)
    published.put("_posts/.hidden.md", OWNER)
    published.build()

    outcomes = [r["outcome"] for result in published.render_results[-2:] for r in result["results"]]
    assert outcomes == ["ignored", "ignored"]
    assert failure_items(published, "_drafts/porto.md") == []
    assert published.site_objects() == site_before
    assert derived_state(published, besides="_drafts/porto.md") == table_before


@pytest.mark.unpatched_moto_too
@pytest.mark.parametrize(
    "bad", [BAD_INPUTS[0], BAD_INPUTS[7], BAD_INPUTS[12]], ids=["not-utf8", "bad-date", "url"]
)
def test_an_update_that_breaks_a_published_post_keeps_the_last_good_version(
    published: Pipeline, bad: BadInput
) -> None:
    good = published.put(NEIGHBOUR_KEY, NEIGHBOUR.replace("Sunday", "Monday"))
    published.build()
    site_before = published.site_objects()
    table_before = derived_state(published, besides=NEIGHBOUR_KEY)

    broken = published.put(NEIGHBOUR_KEY, bad.body)
    published.build()

    assert published.site_objects() == site_before
    assert site_before == expected_site(
        {OWNER_KEY: OWNER.encode(), NEIGHBOUR_KEY: NEIGHBOUR.replace("Sunday", "Monday").encode()}
    )
    assert derived_state(published, besides=NEIGHBOUR_KEY) == table_before
    record = PostTable(published.dynamodb, TABLE).get_post(NEIGHBOUR_KEY)
    assert record is not None
    good_version = good["Records"][0]["s3"]["object"]["versionId"]
    broken_version = broken["Records"][0]["s3"]["object"]["versionId"]
    assert (record.status, record.version_id) == ("published", good_version)
    assert (record.last_outcome, record.last_version_id) == ("rejected", broken_version)
    assert record.last_error is not None and bad.says in record.last_error
    (failure,) = failure_items(published, NEIGHBOUR_KEY)
    assert (failure.version_id, failure.reason) == (broken_version, bad.reason)


@pytest.mark.unpatched_moto_too
def test_fixing_a_rejected_post_publishes_it(published: Pipeline) -> None:
    key = "_posts/inbox/fixed-later.md"
    published.put(key, BAD_INPUTS[7].body)

    published.put(key, hexo_post("Fixed later", "2024-05-06 07:08:09"))
    published.build()

    record = PostTable(published.dynamodb, TABLE).get_post(key)
    assert record is not None
    assert (record.status, record.last_outcome) == ("published", "published")
    assert published.site_objects() == expected_site(
        {
            OWNER_KEY: OWNER.encode(),
            NEIGHBOUR_KEY: NEIGHBOUR.encode(),
            key: hexo_post("Fixed later", "2024-05-06 07:08:09").encode(),
        }
    )


def test_a_post_on_the_most_listings_allowed_can_move_to_another_month(
    published: Pipeline,
) -> None:
    """The reader's limits on categories and tags keep a post's transaction within DynamoDB's
    100 items even when every listing moves to another month (four items each)."""
    assert 1 + MAX_CATEGORY_NODES + MAX_TAGS <= MAX_LISTINGS
    key = "_posts/inbox/many-listings.md"
    categories = "categories: [" + ", ".join(f"[c{i}]" for i in range(MAX_CATEGORY_NODES)) + "]\n"
    tags = "tags: [" + ", ".join(f"t{i}" for i in range(MAX_TAGS)) + "]\n"
    published.put(key, (GOOD_HEAD + categories + tags + "---\nbody\n").encode())
    moved = GOOD_HEAD.replace("2024-04-01", "2024-06-01") + categories + tags + "---\nmoved\n"
    published.put(key, moved.encode())
    published.build()

    outcomes = [r["outcome"] for result in published.render_results[-2:] for r in result["results"]]
    assert outcomes == ["published", "published"]
    record = PostTable(published.dynamodb, TABLE).get_post(key)
    assert record is not None and len(record.lists) == 1 + MAX_CATEGORY_NODES + MAX_TAGS
    assert record.sort_key is not None and record.sort_key.startswith("2024-06-01")
