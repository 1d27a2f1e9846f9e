"""The source bucket is Hexo's source/ folder: pages, assets and post asset folders."""

from __future__ import annotations

import itertools

import pytest
from blogpub.reader import read_post
from blogpub.render import Renderer
from blogpub.settings import load_settings
from blogpub.table import PostRecord, PostTable

from tests.conftest import SEED_POST
from tests.integration.harness import SITE, TABLE, Pipeline

SEED_KEY = "_posts/000_d87f2d6de0cb2939.md"
SEED_URL = "/2022/02/05/000_d87f2d6de0cb2939/"
ASSET_CONFIG = b"title: t\npost_asset_folder: true\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def site_head(pipeline: Pipeline, key: str) -> dict[str, str]:
    head = pipeline.s3.head_object(Bucket=SITE, Key=key)
    return {"type": head["ContentType"], "cache": head["CacheControl"]}


def outcomes(pipeline: Pipeline) -> list[str]:
    return [r["outcome"] for result in pipeline.render_results for r in result["results"]]


def record(pipeline: Pipeline, key: str) -> PostRecord:
    found = PostTable(pipeline.dynamodb, TABLE).get_post(key)
    assert found is not None, key
    return found


def test_an_asset_is_copied_as_it_is_with_its_type_and_a_long_lifetime(
    pipeline: Pipeline,
) -> None:
    pipeline.put("images/a b.png", PNG)
    pipeline.put("CNAME", b"blog.example\n")

    site = pipeline.site_objects()
    assert site["images/a b.png"] == PNG
    assert site["CNAME"] == b"blog.example\n"
    assert site_head(pipeline, "images/a b.png") == {
        "type": "image/png",
        "cache": "public, max-age=0, s-maxage=31536000, must-revalidate",
    }
    assert site_head(pipeline, "CNAME")["type"] == "application/octet-stream"


def test_an_asset_upload_writes_exactly_one_site_object(pipeline: Pipeline) -> None:
    pipeline.put(SEED_KEY, SEED_POST.read_bytes())
    pipeline.build()
    counter = pipeline.counter()

    pipeline.put("images/a.png", PNG)
    pipeline.build()

    assert counter.count("s3.PutObject") == 1
    assert counter.count("s3.DeleteObject") == 0
    assert counter.count("cloudfront.CreateInvalidation") == 0  # a new URL was never cached


def test_deleting_an_asset_removes_its_site_copy_and_its_claim(pipeline: Pipeline) -> None:
    pipeline.put("files/report.pdf", b"%PDF-1.4 x")
    pipeline.delete("files/report.pdf")

    assert "files/report.pdf" not in pipeline.site_objects()
    assert PostTable(pipeline.dynamodb, TABLE).url_owner("/files/report.pdf") is None


def test_an_asset_over_the_size_limit_is_rejected_and_recorded(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_ASSET_BYTES", "100")  # the runtime follows its environment
    pipeline.put("images/big.png", PNG)

    assert outcomes(pipeline) == ["rejected"]
    assert "images/big.png" not in pipeline.site_objects()
    stored = record(pipeline, "images/big.png")
    assert stored.last_error_reason == "too-large"
    assert "MaxAssetBytes" in (stored.last_error or "")
    failures = PostTable(pipeline.dynamodb, TABLE).recent_failures(10)
    assert [f.source_key for f in failures] == ["images/big.png"]


def test_an_older_asset_event_after_a_newer_one_is_dropped(pipeline: Pipeline) -> None:
    first = pipeline.put("images/a.png", b"one", deliver=False)
    pipeline.put("images/a.png", b"two")
    pipeline.deliver(first)
    pipeline.deliver(first)

    assert pipeline.site_objects()["images/a.png"] == b"two"
    assert outcomes(pipeline) == ["published", "stale", "stale"]


def test_a_page_is_rendered_with_the_page_template_and_not_listed(pipeline: Pipeline) -> None:
    pipeline.put(SEED_KEY, SEED_POST.read_bytes())
    pipeline.put("about/index.md", "---\ntitle: About me\n---\nHello **there**.\n")
    pipeline.put("foo.md", "---\ntitle: Foo\n---\nfoo\n")
    pipeline.build()

    site = pipeline.site_objects()
    about = site["about/index.html"].decode()
    assert '<article class="page">' in about
    assert '<h1 class="post-title">About me</h1>' in about
    assert "<strong>there</strong>" in about
    assert "foo.html" in site
    home = site["index.html"].decode()
    assert "About me" not in home and "/about/" not in home.split("<main", 1)[-1]
    assert "/about/" not in site["atom.xml"].decode()
    assert record(pipeline, "about/index.md").url == "/about/"


def test_a_page_with_layout_false_is_served_as_written(pipeline: Pipeline) -> None:
    pipeline.put("google123.html", "---\nlayout: false\n---\ngoogle-site-verification: 123\n")

    assert pipeline.site_objects()["google123.html"] == b"google-site-verification: 123\n"


def test_a_page_at_an_index_page_s_url_is_rejected_with_the_reason(pipeline: Pipeline) -> None:
    pipeline.put("categories/index.md", "---\ntitle: Categories\ntype: categories\n---\n")

    stored = record(pipeline, "categories/index.md")
    assert stored.last_error_reason == "bad-permalink"
    assert "reserved for index pages" in (stored.last_error or "")


def test_deleting_a_page_removes_it(pipeline: Pipeline) -> None:
    pipeline.put("about/index.md", "---\ntitle: About\n---\nx\n")
    pipeline.delete("about/index.md")

    assert "about/index.html" not in pipeline.site_objects()


def test_a_post_asset_is_served_below_its_post_whatever_arrives_first(
    pipeline: Pipeline,
) -> None:
    pipeline.put("_config.yml", ASSET_CONFIG, deliver=False)  # read by every render
    early = "_posts/000_d87f2d6de0cb2939/early.png"
    pipeline.put(early, b"early")  # before its post: waits
    assert record(pipeline, early).status == "unpublished"

    pipeline.put(SEED_KEY, SEED_POST.read_bytes())
    pipeline.put("_posts/000_d87f2d6de0cb2939/img/late.png", b"late")
    pipeline.build()

    site = pipeline.site_objects()
    assert site["2022/02/05/000_d87f2d6de0cb2939/early.png"] == b"early"
    assert site["2022/02/05/000_d87f2d6de0cb2939/img/late.png"] == b"late"


def test_a_post_s_assets_follow_its_url_and_go_with_it(pipeline: Pipeline) -> None:
    pipeline.put("_config.yml", ASSET_CONFIG, deliver=False)  # read by every render
    pipeline.put(SEED_KEY, SEED_POST.read_bytes())
    pipeline.put("_posts/000_d87f2d6de0cb2939/a.png", b"a")
    moved = SEED_POST.read_text().replace("---\n", "---\npermalink: moved/\n", 1)
    pipeline.put(SEED_KEY, moved)

    site = pipeline.site_objects()
    assert site["moved/a.png"] == b"a"
    assert "2022/02/05/000_d87f2d6de0cb2939/a.png" not in site

    pipeline.delete(SEED_KEY)
    assert "moved/a.png" not in pipeline.site_objects()
    assert record(pipeline, "_posts/000_d87f2d6de0cb2939/a.png").status == "unpublished"


def test_a_repeated_post_event_places_assets_a_failed_run_missed(pipeline: Pipeline) -> None:
    pipeline.put("_config.yml", ASSET_CONFIG, deliver=False)  # read by every render
    pipeline.put("_posts/000_d87f2d6de0cb2939/a.png", b"a")
    post_event = pipeline.put(SEED_KEY, SEED_POST.read_bytes())
    pipeline.s3.delete_object(Bucket=SITE, Key="2022/02/05/000_d87f2d6de0cb2939/a.png")

    pipeline.deliver(post_event)  # Lambda's retry of the same event

    assert pipeline.site_objects()["2022/02/05/000_d87f2d6de0cb2939/a.png"] == b"a"


def test_pages_are_in_the_sitemap_and_leave_it_when_deleted(pipeline: Pipeline) -> None:
    pipeline.put(SEED_KEY, SEED_POST.read_bytes())
    pipeline.put("about/index.md", "---\ntitle: About\n---\nx\n")
    pipeline.put("google123.html", "---\nlayout: false\n---\nverification\n")
    pipeline.build()

    site = pipeline.site_objects()
    pages_sitemap = site["sitemaps/pages.xml"].decode()
    assert "<loc>http://example.com/about/</loc>" in pages_sitemap
    assert "google123" not in pages_sitemap
    assert "http://example.com/sitemaps/pages.xml" in site["sitemap.xml"].decode()
    assert "/about/" not in site["sitemaps/2022-02.xml"].decode()

    pipeline.delete("about/index.md")
    pipeline.build()

    site = pipeline.site_objects()
    assert "sitemaps/pages.xml" not in site
    assert "pages.xml" not in site["sitemap.xml"].decode()


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_post_and_asset_events_in_any_order_and_repeated_end_the_same(
    pipeline: Pipeline, order: tuple[int, ...]
) -> None:
    pipeline.put("_config.yml", ASSET_CONFIG, deliver=False)
    events = [
        pipeline.put(SEED_KEY, SEED_POST.read_bytes(), deliver=False),
        pipeline.put("_posts/000_d87f2d6de0cb2939/a.png", b"a", deliver=False),
        pipeline.put("_posts/000_d87f2d6de0cb2939/a.png", b"a2", deliver=False),
    ]
    events.append(events[1])  # at least once: the older asset event again

    for index in order:
        pipeline.deliver(events[index])

    site = pipeline.site_objects()
    assert site["2022/02/05/000_d87f2d6de0cb2939/a.png"] == b"a2"
    assert record(pipeline, "_posts/000_d87f2d6de0cb2939/a.png").status == "published"


TAGGED_KEY = "_posts/tagged.md"
TAGGED_PAGE = "2024/03/01/tagged/index.html"
TAGGED_POST = (
    "---\ntitle: Tagged\ndate: 2024-03-01 10:00:00\n---\n\n"
    "Intro.\n\n{% asset_img diagram.png A diagram %}\n\n"
    "See {% asset_link notes.pdf the notes %} and `{% asset_img code.png %}`.\n"
)
TAGGED_ASSETS = {"_posts/tagged/diagram.png": PNG, "_posts/tagged/notes.pdf": b"%PDF-1.4 n"}


def clean_page(*asset_names: str) -> bytes:
    """The tagged post's page rendered straight from the final files: no upload order."""
    settings = load_settings(ASSET_CONFIG)
    post = read_post(TAGGED_POST.encode(), TAGGED_KEY, settings)
    return Renderer(settings).render_post(post, assets=frozenset(asset_names)).page.body


@pytest.mark.parametrize(
    "order",
    [["post", "assets"], ["assets", "post"], ["uploaded", "post", "assets"]],
    ids=["post-first", "assets-first", "both-uploaded-then-post-event-first"],
)
def test_asset_tags_end_the_same_whatever_arrives_first(
    pipeline: Pipeline, order: list[str]
) -> None:
    pipeline.put("_config.yml", ASSET_CONFIG, deliver=False)
    deliver = "uploaded" not in order  # else every file is in the bucket before any event
    events = {
        "post": [pipeline.put(TAGGED_KEY, TAGGED_POST, deliver=False)] if not deliver else [],
        "assets": [pipeline.put(k, v, deliver=False) for k, v in TAGGED_ASSETS.items()]
        if not deliver
        else [],
    }
    for step in order:
        if step == "uploaded":
            continue
        if deliver and step == "post":
            pipeline.put(TAGGED_KEY, TAGGED_POST)
        elif deliver:
            for key, body in TAGGED_ASSETS.items():
                pipeline.put(key, body)
        else:
            for event in events[step]:
                pipeline.deliver(event)
    pipeline.build()

    page = pipeline.site_objects()[TAGGED_PAGE]
    assert page == clean_page("diagram.png", "notes.pdf")
    assert b'<img src="/2024/03/01/tagged/diagram.png"' in page
    assert b'href="/2024/03/01/tagged/notes.pdf"' in page
    assert record(pipeline, TAGGED_KEY).warnings == ()


def test_an_asset_tag_naming_a_missing_file_renders_nothing_and_says_so(
    pipeline: Pipeline,
) -> None:
    pipeline.put("_config.yml", ASSET_CONFIG, deliver=False)
    pipeline.put("_posts/tagged/notes.pdf", TAGGED_ASSETS["_posts/tagged/notes.pdf"])
    pipeline.put(TAGGED_KEY, TAGGED_POST)

    page = pipeline.site_objects()[TAGGED_PAGE]
    assert page == clean_page("notes.pdf")
    assert b"diagram.png" not in page  # Hexo's asset_img renders nothing for a missing file
    assert record(pipeline, TAGGED_KEY).warnings == (
        "line 8: asset_img: none of 'diagram.png A diagram' is in the post's asset folder",
    )


def test_deleting_an_asset_re_renders_its_post_without_it(pipeline: Pipeline) -> None:
    pipeline.put("_config.yml", ASSET_CONFIG, deliver=False)
    for key, body in TAGGED_ASSETS.items():
        pipeline.put(key, body)
    pipeline.put(TAGGED_KEY, TAGGED_POST)

    pipeline.delete("_posts/tagged/diagram.png")

    assert pipeline.site_objects()[TAGGED_PAGE] == clean_page("notes.pdf")
    assert record(pipeline, TAGGED_KEY).assets_found == ("notes.pdf",)


def test_only_a_post_with_asset_tags_lists_its_folder_and_an_untagged_asset_renders_nothing(
    pipeline: Pipeline,
) -> None:
    pipeline.put("_config.yml", ASSET_CONFIG, deliver=False)
    pipeline.put(TAGGED_KEY, TAGGED_POST)
    pipeline.put(SEED_KEY, SEED_POST.read_bytes())
    counter = pipeline.counter()

    pipeline.put(SEED_KEY, SEED_POST.read_text() + "\nMore.\n")  # same URL, no asset tag
    untagged = counter.count("s3.ListObjectsV2")
    pipeline.put("_posts/tagged/other.png", PNG)  # in the folder, named by no tag
    other_asset = pipeline.render_results[-1]["results"]
    pipeline.put(TAGGED_KEY, TAGGED_POST + "\nMore.\n")  # same URL, asset tags
    tagged = counter.count("s3.ListObjectsV2") - untagged

    assert untagged == 0
    # The asset's own copy only: no tag names it, so its post is not rendered again.
    assert [r["pages_written"] for r in other_asset] == [["/2024/03/01/tagged/other.png"]]
    assert tagged == 2  # the folder to render with, and once more after the commit
