"""Index work proportional to what changed (issue 17): listings and months keep change
counters, moved in the post's transaction; pages remember the counter they were rendered
from, so a batch whose records the pages already show renders and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from blogpub import keys, service
from blogpub.events import stream_changes
from blogpub.indexes import BuildReport, IndexBuilder
from blogpub.models import SITE as SITE_LIST
from blogpub.models import ListRef, object_key_for
from blogpub.pages import IndexPage
from blogpub.render import Renderer
from blogpub.settings import Settings
from blogpub.site import RENDERED_FROM_METADATA, PageConflictError, SiteBucket
from blogpub.table import CHANGES, ETAG, RENDERED_FROM, PostTable, to_item

from tests.integration.harness import REGION, SITE, TABLE, Pipeline
from tests.integration.test_pipeline import expected_site
from tests.reliability.posts import hexo_post

GARDEN = ListRef("category", ("Garden",), ("Garden",))  # Hexo keeps the name's case
FIRST_KEY = "_posts/garden/tomatoes.md"
FIRST = hexo_post("Tomatoes in pots", "2024-06-01 08:00:00", categories=["Garden"])


def counter(pipeline: Pipeline, ref: ListRef, month: tuple[int, int] | None = None) -> int:
    if month is None:
        key = {keys.PK: keys.registry_pk(ref.kind), keys.SK: ref.list_id}
    else:
        key = {keys.PK: keys.months_pk(ref.list_id), keys.SK: keys.month_prefix(*month)}
    item = pipeline.dynamodb.get_item(TableName=TABLE, Key=to_item(key)).get("Item", {})
    return int(item[CHANGES]["N"]) if CHANGES in item else 0


class CountingBuilder:
    """An index builder with its own clients that counts its renders and its page writes."""

    def __init__(self) -> None:
        self.renders: list[str] = []
        self.writes = 0
        s3 = boto3.client("s3", region_name=REGION)
        s3.meta.events.register("before-call.s3.PutObject", self._count_write)
        settings = Settings()
        self.builder = IndexBuilder(
            table=PostTable(boto3.client("dynamodb", region_name=REGION), TABLE),
            site=SiteBucket(s3, SITE),
            settings=settings,
            renderer=Renderer(settings),
            on_rendered=lambda page: self.renders.append(page.url),
        )

    def _count_write(self, **_: Any) -> None:
        self.writes += 1

    def build(self, records: list[dict[str, Any]]) -> BuildReport:
        return self.builder.build(stream_changes({"Records": records}))


@pytest.fixture
def builder(pipeline: Pipeline) -> Iterator[CountingBuilder]:
    yield CountingBuilder()


def test_a_publish_moves_the_counters_of_what_it_changes_in_its_transaction(
    pipeline: Pipeline,
) -> None:
    pipeline.put(FIRST_KEY, FIRST)
    june = (2024, 6)
    assert [counter(pipeline, ref) for ref in (SITE_LIST, GARDEN)] == [1, 1]
    assert [counter(pipeline, ref, june) for ref in (SITE_LIST, GARDEN)] == [1, 1]

    # A new title: every listing and month that shows the entry moves.
    pipeline.put(FIRST_KEY, FIRST.replace("Tomatoes in pots", "Tomatoes in tubs"))
    assert [counter(pipeline, ref) for ref in (SITE_LIST, GARDEN)] == [2, 2]
    assert [counter(pipeline, ref, june) for ref in (SITE_LIST, GARDEN)] == [2, 2]

    # A new body after the excerpt: the listings (their feeds show it), not the months.
    edited = FIRST.replace("Tomatoes in pots", "Tomatoes in tubs").replace("The rest", "All")
    pipeline.put(FIRST_KEY, edited)
    assert [counter(pipeline, ref) for ref in (SITE_LIST, GARDEN)] == [3, 3]
    assert [counter(pipeline, ref, june) for ref in (SITE_LIST, GARDEN)] == [2, 2]

    # The same bytes again (a duplicate upload): nothing moves.
    pipeline.put(FIRST_KEY, edited)
    assert counter(pipeline, SITE_LIST) == 3


def test_a_batch_the_pages_already_show_renders_and_writes_nothing(
    pipeline: Pipeline, builder: CountingBuilder
) -> None:
    posts = {
        f"_posts/garden/p{index}.md": hexo_post(
            f"Post {index}", f"2024-0{1 + index % 3}-0{1 + index} 08:00:00", categories=["Garden"]
        )
        for index in range(4)
    }
    # Every post commits before the first batch runs: the table is ahead of the stream.
    for key, text in posts.items():
        pipeline.put(key, text)
    records = list(pipeline.stream_records())
    per_post = len(records) // len(posts)
    first = builder.build(records[:per_post])
    first_renders, first_writes = len(builder.renders), builder.writes
    assert first_renders > 0 and first_writes > 0
    assert first.pages_rendered == first_renders  # the report counts the renders made

    # The later batches' records are already shown by the pages the first batch rendered,
    # except those of pages it did not reach (the other months).
    for start in range(per_post, len(records), per_post):
        builder.build(records[start : start + per_post])
    assert len(builder.renders) - first_renders < first_renders

    # The whole stream again (a retried batch, a replayed shard): no render, no write.
    renders, writes = len(builder.renders), builder.writes
    again = builder.build(records)
    assert (len(builder.renders), builder.writes) == (renders, writes)
    assert (again.pages_rendered, again.pages_written) == (0, [])
    assert pipeline.site_objects() == expected_site({k: v.encode() for k, v in posts.items()})


def test_pages_remember_the_counter_they_were_rendered_from(pipeline: Pipeline) -> None:
    pipeline.put(FIRST_KEY, FIRST)
    pipeline.build()
    home = pipeline.s3.head_object(Bucket=SITE, Key=object_key_for("/"))
    month = pipeline.s3.head_object(Bucket=SITE, Key=object_key_for("/archives/2024/06/"))
    assert home["Metadata"][RENDERED_FROM_METADATA] == str(counter(pipeline, SITE_LIST))
    assert month["Metadata"][RENDERED_FROM_METADATA] == str(counter(pipeline, SITE_LIST, (2024, 6)))


def page_states(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    """The page state items the index builder recorded, by URL."""
    items = pipeline.dynamodb.scan(TableName=TABLE)["Items"]
    return {
        item[keys.PK]["S"].removeprefix("PAGE#"): item
        for item in items
        if keys.partition_of(item[keys.PK]["S"])[0] == "page_state"
    }


def test_pages_remember_their_state_in_the_table_so_a_batch_sends_no_head(
    pipeline: Pipeline,
) -> None:
    pipeline.put(FIRST_KEY, FIRST)
    pipeline.build()
    # Each page written has its state beside its counter: the ETag S3 gave the write, the
    # content hash and the counter it was rendered from, as the object's metadata says.
    states = page_states(pipeline)
    home = pipeline.s3.head_object(Bucket=SITE, Key=object_key_for("/"))
    assert states["/"][ETAG]["S"] == home["ETag"]
    assert states["/"][RENDERED_FROM]["N"] == home["Metadata"][RENDERED_FROM_METADATA]
    assert set(states) >= {"/", "/archives/2024/06/", "/categories/Garden/", "/atom.xml"}

    # A second post: the batch reads the pages' states with its counters, in one request,
    # and writes the pages behind them without a HEAD of any page.
    pipeline.put("_posts/garden/basil.md", hexo_post("Basil", "2024-06-02 08:00:00"))
    counter_log = pipeline.counter()
    pipeline.build()  # the post's records (and those of the first batch's state writes)
    assert counter_log.count("dynamodb.BatchGetItem") >= 1
    page_heads = counter_log.count("s3.HeadObject") - 1  # the theme assets' one HEAD
    assert page_heads == 0
    pipeline.unhook(counter_log)

    # The records of the builder's own state writes start a batch that reads nothing.
    state_records = list(pipeline.stream_records())
    assert state_records
    assert {keys.partition_of(r["dynamodb"]["Keys"][keys.PK]["S"])[0] for r in state_records} == {
        "page_state"
    }
    counter_log = pipeline.counter()
    report = service.build_indexes_event({"Records": state_records})
    pipeline.unhook(counter_log)
    assert counter_log.calls == {}
    assert report["pages_written"] == [] and report["batchItemFailures"] == []


def test_a_page_state_behind_its_object_is_caught_up_by_the_conditional_write(
    pipeline: Pipeline, builder: CountingBuilder
) -> None:
    """A state is a hint: lost (a batch that failed after its page writes, a site from before
    the states) or behind the object, the write it guides fails its condition, the builder
    reads the object (a HEAD) and renders again only if the page is still behind."""
    pipeline.put(FIRST_KEY, FIRST)
    records = list(pipeline.stream_records())
    builder.build(records)
    site_before = pipeline.site_objects()
    home_before = pipeline.s3.head_object(Bucket=SITE, Key=object_key_for("/"))
    recorded = page_states(pipeline)
    for url in recorded:
        key = {keys.PK: keys.page_state_pk(url), keys.SK: keys.PAGE_STATE_SK}
        pipeline.dynamodb.delete_item(TableName=TABLE, Key=to_item(key))

    # The same records again: every page is taken to be absent, rendered, and its
    # If-None-Match write refused; the HEAD shows the page current, so nothing is written,
    # and the state read from the object is recorded.
    attempts, renders = builder.writes, len(builder.renders)
    caught_up = builder.build(records)
    assert builder.writes - attempts == len(recorded)
    assert caught_up.pages_rendered == len(builder.renders) - renders > 0
    assert pipeline.site_objects() == site_before
    home = pipeline.s3.head_object(Bucket=SITE, Key=object_key_for("/"))
    assert home["LastModified"] == home_before["LastModified"]
    assert page_states(pipeline) == recorded

    # Once more: the recorded states say the pages are current. No render, no write.
    renders, writes = len(builder.renders), builder.writes
    again = builder.build(records)
    assert (len(builder.renders), builder.writes) == (renders, writes)
    assert (again.pages_rendered, again.pages_written) == (0, [])

    # A state whose ETag is behind the object (another builder wrote since): a new post's
    # batch loses its If-Match write, reads the object and still converges.
    stale = {keys.PK: keys.page_state_pk("/"), keys.SK: keys.PAGE_STATE_SK}
    pipeline.dynamodb.update_item(
        TableName=TABLE,
        Key=to_item(stale),
        UpdateExpression="SET #e = :e",
        ExpressionAttributeNames={"#e": ETAG},
        ExpressionAttributeValues={":e": {"S": '"not-the-stored-etag"'}},
    )
    second = hexo_post("Basil", "2024-06-02 08:00:00", categories=["Garden"])
    pipeline.put("_posts/garden/basil.md", second)
    renders = len(builder.renders)
    report = builder.build(list(pipeline.stream_records()))
    # the home page rendered twice (its lost write, then behind the object it read): both counted
    assert builder.renders[renders:].count("/") == 2
    assert report.pages_rendered == len(builder.renders) - renders
    expected = expected_site({FIRST_KEY: FIRST.encode(), "_posts/garden/basil.md": second.encode()})
    assert pipeline.site_objects() == expected
    home = pipeline.s3.head_object(Bucket=SITE, Key=object_key_for("/"))
    assert page_states(pipeline)["/"][ETAG]["S"] == home["ETag"]


def test_a_page_with_no_state_is_read_before_it_is_left_absent(
    pipeline: Pipeline, builder: CountingBuilder
) -> None:
    """Pages written before the states (or by a builder that records none) have no state;
    when such a page should no longer exist, a HEAD finds it and it is deleted."""
    pipeline.put(FIRST_KEY, FIRST)
    builder.build(list(pipeline.stream_records()))
    for url in page_states(pipeline):
        key = {keys.PK: keys.page_state_pk(url), keys.SK: keys.PAGE_STATE_SK}
        pipeline.dynamodb.delete_item(TableName=TABLE, Key=to_item(key))
    assert "categories/Garden/index.html" in pipeline.site_objects()

    pipeline.delete(FIRST_KEY)
    builder.build(list(pipeline.stream_records()))

    assert pipeline.site_objects() == expected_site({})
    assert "/categories/Garden/" not in page_states(pipeline)


def test_a_post_moved_to_another_month_renders_the_pages_its_counters_do_not_cover(
    pipeline: Pipeline,
) -> None:
    """A move keeps its listings' totals, so their counters stay (the transaction's bound):
    the post record's change renders their landings, archive indexes, feeds and years."""
    pipeline.put(FIRST_KEY, FIRST)
    second = hexo_post("Basil", "2024-06-02 08:00:00", categories=["Garden"])
    pipeline.put("_posts/garden/basil.md", second)
    pipeline.build()
    before = counter(pipeline, GARDEN)
    moved = FIRST.replace("2024-06-01", "2023-12-31")
    pipeline.put(FIRST_KEY, moved)
    assert counter(pipeline, GARDEN) == before
    pipeline.build()
    assert pipeline.site_objects() == expected_site(
        {FIRST_KEY: moved.encode(), "_posts/garden/basil.md": second.encode()}
    )


def test_a_conditional_page_write_loses_to_a_write_it_did_not_read(pipeline: Pipeline) -> None:
    pipeline.put(FIRST_KEY, FIRST)
    pipeline.build()
    site = SiteBucket(pipeline.s3, SITE)
    builder = CountingBuilder().builder
    home = IndexPage("landing", SITE_LIST)
    page = builder.render(home)
    assert page is not None
    stored = site.stored_page("/")
    assert stored is not None and stored.rendered_from is not None
    pipeline.s3.put_object(Bucket=SITE, Key=object_key_for("/"), Body=b"another builder")

    with pytest.raises(PageConflictError):
        site.write_if_unchanged("/", page, "listing", stored=stored, rendered_from=99)
    with pytest.raises(PageConflictError):
        site.write_if_unchanged("/", page, "listing", stored=None, rendered_from=99)
    with pytest.raises(PageConflictError):
        site.write_if_unchanged("/", None, "listing", stored=stored, rendered_from=99)
    body = pipeline.s3.get_object(Bucket=SITE, Key=object_key_for("/"))["Body"].read()
    assert body == b"another builder"


class QueryLog:
    """The key conditions of the queries the functions' DynamoDB client sends."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.client = service.runtime().dynamodb
        self.client.meta.events.register("provide-client-params.dynamodb.Query", self._note)

    def _note(self, params: dict[str, Any], **_: Any) -> None:
        self.conditions.append(params["KeyConditionExpression"])

    def month_queries(self) -> int:
        return sum("begins_with" in condition for condition in self.conditions)

    def close(self) -> None:
        self.client.meta.events.unregister("provide-client-params.dynamodb.Query", self._note)


def test_a_month_archive_the_landing_read_holds_whole_costs_no_query_of_its_own(
    pipeline: Pipeline,
) -> None:
    """The newest month holds more posts than a feed shows: the listing's newest entries are
    read one past the month (its count is on the landing), and the month archives of the site
    and the category slice that read. A month further back is read by its own query."""
    posts = {
        f"_posts/garden/june-{day:02d}.md": hexo_post(
            f"June {day}", f"2024-06-{day:02d} 08:00:00", categories=["Garden"]
        )
        for day in range(1, 25)
    }
    posts["_posts/garden/may.md"] = hexo_post("May", "2024-05-20 08:00:00", categories=["Garden"])
    for key, text in posts.items():
        pipeline.put(key, text)
    pipeline.build()

    newest = "_posts/garden/june-28.md"
    posts[newest] = hexo_post("June 28", "2024-06-28 08:00:00", categories=["Garden"])
    queries = QueryLog()
    try:
        pipeline.put(newest, posts[newest])
        pipeline.build()
        into_june = queries.month_queries()
        queries.conditions.clear()
        posts["_posts/garden/may.md"] = posts["_posts/garden/may.md"].replace("May", "Late May")
        pipeline.put("_posts/garden/may.md", posts["_posts/garden/may.md"])
        pipeline.build()
        into_may = queries.month_queries()
    finally:
        queries.close()

    assert into_june == 0
    assert into_may == 2  # the site's (its month sitemap shares it) and the category's
    assert pipeline.site_objects() == expected_site({k: v.encode() for k, v in posts.items()})


def page_set_counter(pipeline: Pipeline) -> int:
    key = to_item({keys.PK: keys.PAGE_SET_PK, keys.SK: keys.PAGE_SET_SK})
    item = pipeline.dynamodb.get_item(TableName=TABLE, Key=key).get("Item", {})
    return int(item[CHANGES]["N"]) if CHANGES in item else 0


def test_the_pages_sitemap_follows_the_counter_of_the_page_set(
    pipeline: Pipeline, builder: CountingBuilder
) -> None:
    """A standalone page entering, moving in or leaving the pages sitemap moves the page set's
    counter (and the site's: the sitemap index links the pages sitemap) in its own
    transaction; the pages sitemap remembers it, so a replayed batch renders nothing."""
    pages_xml, sitemap = "/sitemaps/pages.xml", "/sitemap.xml"
    pipeline.put(FIRST_KEY, FIRST)
    pipeline.build()
    site_before = counter(pipeline, SITE_LIST)

    pipeline.put("about/index.md", "---\ntitle: About\n---\nx\n")
    assert page_set_counter(pipeline) == 1
    assert counter(pipeline, SITE_LIST) == site_before + 1
    records = list(pipeline.stream_records())
    builder.build(records)
    assert {pages_xml, sitemap} <= set(builder.renders)
    stored = pipeline.s3.head_object(Bucket=SITE, Key=object_key_for(pages_xml))
    assert stored["Metadata"][RENDERED_FROM_METADATA] == "1"

    # The same records again: the pages sitemap and the sitemap index already show them.
    renders, writes = len(builder.renders), builder.writes
    again = builder.build(records)
    assert (len(builder.renders), builder.writes) == (renders, writes)
    assert (again.pages_rendered, again.pages_written) == (0, [])

    # A new body at the same URL leaves the page set as it was.
    pipeline.put("about/index.md", "---\ntitle: About\n---\nnew words\n")
    assert page_set_counter(pipeline) == 1

    # A rebuild's touch of the site moves the page set's counter first.
    PostTable(pipeline.dynamodb, TABLE).touch_registry(SITE_LIST, "rebuild-1")
    assert page_set_counter(pipeline) == 2

    pipeline.delete("about/index.md")
    assert page_set_counter(pipeline) == 3
    builder.build(list(pipeline.stream_records()))
    site = pipeline.site_objects()
    assert "sitemaps/pages.xml" not in site
    assert "pages.xml" not in site["sitemap.xml"].decode()
