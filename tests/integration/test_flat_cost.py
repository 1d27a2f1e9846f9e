"""DESIGN.md invariant 2: one more post costs the same on a small and on a large site."""

from __future__ import annotations

from datetime import datetime, timedelta

from moto import mock_aws

from tests.integration.harness import Pipeline

CATEGORY_TREES = [["新媒体", "趣头条", "分类"], ["编程", "Dockone", "周报"]]
START = datetime(2021, 1, 1, 8, 0, 0)
SPAN_DAYS = 730


def post_text(index: int, total: int) -> str:
    """A small importer-shaped post; dates spread evenly over two years."""
    date = START + timedelta(days=SPAN_DAYS * index / total)
    tree = CATEGORY_TREES[index % len(CATEGORY_TREES)]
    categories = "\n".join(f" - {name}" for name in tree)
    return (
        f"---\ntitle: 'Post {index}'\ncategories:\n{categories}\n"
        f"date: {date:%Y-%m-%d %H:%M:%S}\nauthor: bench\n---\n\n"
        f"<div><p>Body of post {index}.</p></div>\n"
    )


def build_site(pipeline: Pipeline, total: int) -> None:
    for index in range(total):
        pipeline.put(f"posts/p{index:05d}.md", post_text(index, total))
    pipeline.build(
        batch_size=1_000_000
    )  # the base site in one pass; only the next post is measured


def publish_one_more(pipeline: Pipeline) -> dict[str, int]:
    """Publish one new post into the first tree and count what it cost."""
    counter = pipeline.counter()
    invalidations_before = len(pipeline.invalidations())
    # The newest post, opening a month: the same position on both sites, so the same pages
    # (landings, feeds, archives, overviews, the new month's archives) change on both.
    newcomer = (
        post_text(0, 1)
        .replace("Post 0", "Newcomer")
        .replace("2021-01-01 08:00:00", "2023-01-15 09:00:00")
    )
    pipeline.put("posts/newcomer.md", newcomer)
    reports = pipeline.build()
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


def measure(total: int) -> dict[str, int]:
    with mock_aws():
        pipeline = Pipeline()
        build_site(pipeline, total)
        return publish_one_more(pipeline)


def test_publishing_one_post_costs_the_same_on_20_and_2000_posts(aws_env: None) -> None:
    small = measure(20)
    large = measure(2000)

    assert small["pages_written"] > 0
    assert small["invalidation_paths"] > 0
    assert small["dynamodb_requests"] > 0
    assert large == small
