"""docs/design.md, invariant 2: one more post costs the same on a small and on a large site, and on
a young and an old one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from blogpub import service
from moto import mock_aws

from bench.capacity import CapacityRecorder
from tests.integration.harness import Pipeline

CATEGORY_TREES = [["新媒体", "趣头条", "分类"], ["编程", "Dockone", "周报"]]
START = datetime(2021, 1, 1, 8, 0, 0)
SPAN_DAYS = 730

# The young and the old site share their newest months, post for post; the old one also has
# one post a month for ten years before them, all in the newcomer's tree, so every listing the
# newcomer joins (the site's and its three categories') spans 123 months instead of 3.
NEWEST_MONTH = (2022, 12)
RECENT_MONTHS = 3
POSTS_PER_RECENT_MONTH = 20
OLDER_MONTHS = 120
# hexo-generator-feed's form for both feeds.
RSS2_CONFIG = "feed:\n  type: [atom, rss2]\n  path: [atom.xml, rss2.xml]\n"


def post_source(index: int, date: datetime, tree: int) -> str:
    """A small importer-shaped post in ``CATEGORY_TREES[tree]``."""
    categories = "\n".join(f" - {name}" for name in CATEGORY_TREES[tree])
    return (
        f"---\ntitle: 'Post {index}'\ncategories:\n{categories}\n"
        f"date: {date:%Y-%m-%d %H:%M:%S}\nauthor: bench\n---\n\n"
        f"<div><p>Body of post {index}.</p></div>\n"
    )


def post_text(index: int, total: int) -> str:
    """Dates spread evenly over two years, trees alternating."""
    date = START + timedelta(days=SPAN_DAYS * index / total)
    return post_source(index, date, index % len(CATEGORY_TREES))


def build_site(pipeline: Pipeline, total: int) -> None:
    seed(pipeline, [post_text(index, total) for index in range(total)])


def seed(pipeline: Pipeline, texts: list[str]) -> None:
    for index, text in enumerate(texts):
        pipeline.put(f"_posts/p{index:05d}.md", text)
    pipeline.build(
        batch_size=1_000_000
    )  # the base site in one pass; only the next post is measured
    pipeline.build()  # the batch of the page states that build recorded


def publish(
    pipeline: Pipeline, newcomer: str | bytes, key: str = "_posts/newcomer.md"
) -> dict[str, int]:
    """Publish one new post (or another source file) and count what it cost."""
    counter = pipeline.counter()
    invalidations_before = len(pipeline.invalidations())
    pipeline.put(key, newcomer)
    reports = pipeline.build()
    reports += pipeline.build()  # the batch its page states start (it reads nothing)
    pipeline.unhook(counter)
    invalidations = pipeline.invalidations()[invalidations_before:]
    return {
        "pages_written": counter.count("s3.PutObject"),
        "pages_deleted": counter.count("s3.DeleteObject"),
        "s3_requests": counter.total("s3"),
        "dynamodb_requests": counter.total("dynamodb"),
        "invalidations": len(invalidations),
        "invalidation_paths": sum(len(paths) for paths in invalidations),
        "build_batches": len(reports),
    }


def publish_one_more(pipeline: Pipeline) -> dict[str, int]:
    """Publish one new post into the first tree and count what it cost."""
    # The newest post, opening a month: the same position on both sites, so the same pages
    # (landings, feeds, archives, overviews, the new month's archives) change on both.
    newcomer = (
        post_text(0, 1)
        .replace("Post 0", "Newcomer")
        .replace("2021-01-01 08:00:00", "2023-01-15 09:00:00")
    )
    return publish(pipeline, newcomer)


def measure(total: int, config: str | None = None) -> dict[str, int]:
    with mock_aws():
        pipeline = Pipeline()
        if config is not None:
            pipeline.put("_config.yml", config, deliver=False)  # read by every render
        build_site(pipeline, total)
        post = publish_one_more(pipeline)
        # An asset (issue 13): one site object, whatever the site's size.
        asset = publish(pipeline, b"\x89PNG asset bytes", "images/photo.png")
        return post | {f"asset_{name}": value for name, value in asset.items()}


# 2,020 publishes through the functions on moto: CPU-bound, and the suite's 600 s hang guard
# (pyproject.toml) is wall time; with the 2-core machine shared at load 10 it ran past 600 s.
@pytest.mark.timeout(1800)
def test_publishing_one_post_costs_the_same_on_20_and_2000_posts(aws_env: None) -> None:
    """Changed since d21886d (kept): posts under ``_posts/`` and the asset case (issue 13's
    source folder); the bound on requests, at most half of the 138 before, as issue 17 asks.
    Every assertion of d21886d stands."""
    small = measure(20)
    large = measure(2000)

    assert small["pages_written"] > 0
    # A new post invalidates nothing: listing pages expire (IndexPageTtlSeconds), issue 15.
    assert small["invalidation_paths"] == 0
    assert small["dynamodb_requests"] > 0
    # Issue 17: at most half the requests of before (138: 71 DynamoDB, 67 S3): a batch renders
    # only pages behind their change counter, once, from answers its pages share, and a
    # listing's newest months from its landing's reads, and knows what each page was rendered
    # from by the page states it reads with its counters instead of a HEAD per page, and a
    # new post's page is written with If-None-Match instead of a HEAD first (42 measured; 43
    # with that HEAD, 62 with a HEAD per index page, 65 before that).
    assert small["dynamodb_requests"] + small["s3_requests"] <= 42 <= 138 // 2
    assert large == small
    assert small["asset_pages_written"] == 1  # an asset upload writes exactly one object
    assert small["asset_pages_deleted"] == small["asset_invalidation_paths"] == 0


def test_rss2_feeds_add_one_write_per_atom_feed_a_publish_rewrites_and_stay_flat(
    aws_env: None,
) -> None:
    default = measure(20)
    small = measure(20, RSS2_CONFIG)
    large = measure(200, RSS2_CONFIG)

    # The newcomer is listed on the site and on its three category levels: four Atom feeds
    # change, and the four RSS 2.0 feeds beside them; nothing else is written.
    assert small["pages_written"] == default["pages_written"] + 4
    assert small["invalidation_paths"] == default["invalidation_paths"] == 0
    assert large == small


def month_before(back: int, day: int) -> datetime:
    """08:00 on ``day`` of the month ``back`` months before NEWEST_MONTH."""
    year, month = NEWEST_MONTH
    months = year * 12 + month - 1 - back
    return datetime(months // 12, months % 12 + 1, day, 8, 0, 0)


def publish_into_the_newest_month(pipeline: Pipeline) -> dict[str, float]:
    """Publish the newest post of all into the newest month (which both sites fill alike, so
    no month opens), counting the requests and the DynamoDB capacity units they cost."""
    newcomer = post_source(0, month_before(0, 25), 0).replace("Post 0", "Newcomer")
    recorder = CapacityRecorder()
    dynamodb = service.runtime().dynamodb  # the functions' client, which the counter hooks too
    recorder.attach(dynamodb)  # around both the render and the index build
    try:
        cost: dict[str, float] = {**publish(pipeline, newcomer)}
    finally:
        recorder.detach(dynamodb)
    return cost | {"read_units": recorder.read_units, "write_units": recorder.write_units}


def measure_units(texts: list[str]) -> dict[str, float]:
    with mock_aws():
        pipeline = Pipeline()
        seed(pipeline, texts)
        return publish_into_the_newest_month(pipeline)


def test_publishing_one_post_costs_the_same_on_a_young_and_an_old_site(aws_env: None) -> None:
    recent = []
    for index in range(RECENT_MONTHS * POSTS_PER_RECENT_MONTH):
        back, day = divmod(index, POSTS_PER_RECENT_MONTH)
        recent.append(post_source(index, month_before(back, 1 + day), index % 2))
    older = [
        post_source(len(recent) + back, month_before(RECENT_MONTHS + back, 10), 0)
        for back in range(OLDER_MONTHS)
    ]
    young = measure_units(recent)  # 60 posts over 3 months
    old = measure_units(recent + older)  # the same 60 posts after ten years of one a month

    assert young["pages_written"] > 0
    assert young["read_units"] > 0
    assert young["write_units"] > 0
    assert old == young
