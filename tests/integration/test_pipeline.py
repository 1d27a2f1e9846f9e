"""The pipeline against moto: what a publish, an update and a delete do to the site."""

from __future__ import annotations

from blogpub import keys
from blogpub.models import object_key_for
from blogpub.reader import read_post
from blogpub.render import Renderer
from blogpub.settings import Settings
from blogpub.table import PostTable

from tests.conftest import SEED_POST
from tests.integration.harness import SITE, SOURCE, TABLE, Pipeline

SEED_KEY = "_posts/000_d87f2d6de0cb2939.md"
SEED_URL = "/2022/02/05/000_d87f2d6de0cb2939/"
CATEGORY_PAGES = [
    "categories/新媒体/index.html",
    "categories/新媒体/趣头条/index.html",
    "categories/新媒体/趣头条/分类/index.html",
    "categories/新媒体/2022/02/index.html",
    "categories/新媒体/趣头条/2022/02/index.html",
    "categories/新媒体/趣头条/分类/2022/02/index.html",
]


def expected_site(sources: dict[str, bytes], settings: Settings | None = None) -> dict[str, bytes]:
    """The whole site rendered in memory from the source files: what the bucket must hold."""
    settings = settings or Settings()
    renderer = Renderer(settings)
    posts = [read_post(raw, key, settings) for key, raw in sources.items()]
    rendered = [renderer.render_post(post) for post in posts if post.published]
    return {page.object_key: page.body for page in renderer.site(rendered)}


def paths_of(object_keys: set[str]) -> set[str]:
    """Invalidation paths for changed objects: the URL, and index.html for directories."""
    from urllib.parse import quote

    paths = set()
    for key in object_keys:
        path = "/" + quote(key, safe="/-._~")
        paths.add(path)
        if path.endswith("/index.html"):
            paths.add(path.removesuffix("index.html"))
    return paths


def table_keys(pipeline: Pipeline) -> set[tuple[str, str]]:
    items = pipeline.dynamodb.scan(TableName=TABLE)["Items"]
    return {(item[keys.PK]["S"], item[keys.SK]["S"]) for item in items}


def test_seed_upload_builds_its_pages_without_invalidating(pipeline: Pipeline) -> None:
    seed = SEED_POST.read_bytes()

    pipeline.put(SEED_KEY, seed)
    pipeline.build()

    site = pipeline.site_objects()
    assert object_key_for(SEED_URL) in site
    for page in [
        *CATEGORY_PAGES,
        "index.html",
        "atom.xml",
        "categories/新媒体/atom.xml",
        "sitemap.xml",
        "sitemaps/2022-02.xml",
        "archives/index.html",
        "archives/2022/index.html",
        "archives/2022/02/index.html",
        "categories/index.html",
        "tags/index.html",
        "404.html",
        "robots.txt",
    ]:
        assert page in site, page
    assert site == expected_site({SEED_KEY: seed})
    assert pipeline.invalidations() == []  # every URL was new
    stored = table_keys(pipeline)
    for item in [
        (keys.post_pk(SEED_KEY), keys.POST_SK),
        (keys.url_pk(SEED_URL), keys.URL_SK),
        (keys.list_pk("site"), f"2022-02-05T11:13:23#{SEED_KEY}"),
        (keys.list_pk("category:新媒体/趣头条/分类"), f"2022-02-05T11:13:23#{SEED_KEY}"),
        (keys.registry_pk("category"), "category:新媒体"),
        (keys.registry_pk("category"), "category:新媒体/趣头条"),
        (keys.registry_pk("site"), "site"),
    ]:
        assert item in stored, item
    record = PostTable(pipeline.dynamodb, TABLE).get_post(SEED_KEY)
    assert record is not None
    assert record.status == "published"
    assert record.url == SEED_URL
    assert [ref.list_id for ref in record.lists][:4] == [
        "site",
        "category:新媒体",
        "category:新媒体/趣头条",
        "category:新媒体/趣头条/分类",
    ]


def test_update_invalidates_only_its_own_page(pipeline: Pipeline) -> None:
    seed = SEED_POST.read_text(encoding="utf-8")
    other = seed.replace("title: '李文艺", "title: '另一篇 李文艺").replace("11:13:23", "08:00:00")
    pipeline.put(SEED_KEY, seed)
    pipeline.put("_posts/other.md", other)
    pipeline.build()
    before = pipeline.site_objects()

    updated = seed.replace("李文艺主持召开", "李文艺再次主持召开", 1)
    pipeline.put(SEED_KEY, updated)
    pipeline.build()
    after = pipeline.site_objects()

    changed = {key for key in before if key in after and before[key] != after[key]}
    assert object_key_for(SEED_URL) in changed
    assert "index.html" in changed
    assert after == expected_site({SEED_KEY: updated.encode(), "_posts/other.md": other.encode()})
    invalidations = pipeline.invalidations()
    assert len(invalidations) == 1  # one per stream batch
    # Listing pages (home among them) changed too, but they expire instead (issue 15).
    assert set(invalidations[0]) == paths_of({object_key_for(SEED_URL)})


def test_delete_removes_the_page_and_every_listing(pipeline: Pipeline) -> None:
    seed = SEED_POST.read_text(encoding="utf-8")
    sibling = seed.replace("title: '李文艺", "title: '同类 李文艺")
    pipeline.put(SEED_KEY, seed)
    pipeline.put("_posts/sibling.md", sibling)
    pipeline.build()
    overview_before = pipeline.site_objects()["categories/index.html"].decode()

    pipeline.delete(SEED_KEY)
    pipeline.build()

    site = pipeline.site_objects()
    assert object_key_for(SEED_URL) not in site
    assert site == expected_site({"_posts/sibling.md": sibling.encode()})
    for page, body in site.items():
        assert SEED_URL not in body.decode("utf-8", "replace"), page
    overview_after = site["categories/index.html"].decode()
    assert overview_before != overview_after
    assert ">2<" in overview_before.replace(" ", "") or "(2)" in overview_before
    record = PostTable(pipeline.dynamodb, TABLE).get_post(SEED_KEY)
    assert record is not None and record.status == "deleted"
    # The post page existed and is gone: it is invalidated (the listings expire).
    assert any(SEED_URL.replace("/", "/") in path for path in pipeline.invalidations()[-1])


def test_deleting_the_last_post_of_a_category_removes_its_pages(pipeline: Pipeline) -> None:
    seed = SEED_POST.read_bytes()
    pipeline.put(SEED_KEY, seed)
    pipeline.build()

    pipeline.delete(SEED_KEY)
    pipeline.build()

    site = pipeline.site_objects()
    for page in CATEGORY_PAGES:
        assert page not in site
    assert site == expected_site({})


def test_unpublished_post_is_taken_off_the_site(pipeline: Pipeline) -> None:
    seed = SEED_POST.read_text(encoding="utf-8")
    pipeline.put(SEED_KEY, seed)
    pipeline.build()

    pipeline.put(SEED_KEY, seed.replace("comments: false", "comments: false\npublished: false"))
    pipeline.build()

    assert object_key_for(SEED_URL) not in pipeline.site_objects()
    record = PostTable(pipeline.dynamodb, TABLE).get_post(SEED_KEY)
    assert record is not None and record.status == "unpublished"


def test_drafts_and_files_beside_posts_are_ignored(pipeline: Pipeline) -> None:
    pipeline.put("_drafts/x.md", SEED_POST.read_bytes())
    pipeline.put("_posts/notes.txt", b"not a post")

    outcomes = [r["outcome"] for result in pipeline.render_results for r in result["results"]]

    assert outcomes == ["ignored", "ignored"]
    assert pipeline.site_objects() == {}


def test_site_bucket_object_metadata(pipeline: Pipeline) -> None:
    pipeline.put(SEED_KEY, SEED_POST.read_bytes())
    pipeline.build()

    head = pipeline.s3.head_object(Bucket=SITE, Key=object_key_for(SEED_URL))
    feed = pipeline.s3.head_object(Bucket=SITE, Key="atom.xml")

    assert head["ContentType"] == "text/html; charset=utf-8"
    assert "s-maxage" in head["CacheControl"]
    assert feed["ContentType"].startswith("application/atom+xml")


def test_unknown_tags_publish_and_their_warnings_reach_the_status(pipeline: Pipeline) -> None:
    from blogpub.status import format_status, recent_activity

    source = b"---\ntitle: Tags\ndate: 2024-01-02 03:04:05\n---\nHi\n\n{% bilibili 1 %}\n"
    pipeline.put("_posts/tags.md", source)
    pipeline.build()

    table = PostTable(pipeline.dynamodb, TABLE)
    record = table.get_post("_posts/tags.md")
    assert record is not None and record.status == "published"
    assert record.warnings == ("line 7: unknown tag 'bilibili': shown as text",)
    status = format_status(recent_activity(table, 10), [])
    assert "      warning: line 7: unknown tag 'bilibili': shown as text" in status
    assert pipeline.site_objects() == expected_site({"_posts/tags.md": source})


def test_an_unclosed_tag_delimiter_is_read_as_hexo_reads_it_with_a_warning(
    pipeline: Pipeline,
) -> None:
    from blogpub.status import format_status, recent_activity

    source = (
        b"---\ntitle: Keys\ndate: 2024-01-02 03:04:05\n---\n1. make a key\n"
        b"    {% codeblock lang:shell line_number:false %\n    openvpn --genkey\n"
        b"    {% endcodeblock %}\n2. never shown\n"
    )
    pipeline.put("_posts/keys.md", source)
    pipeline.build()

    table = PostTable(pipeline.dynamodb, TABLE)
    record = table.get_post("_posts/keys.md")
    assert record is not None and record.status == "published"
    [warning] = record.warnings
    assert warning.startswith("lines 6 to 8: an unclosed tag delimiter: {% codeblock lacks its %}")
    assert "were read as the tag's arguments" in warning
    assert f"      warning: {warning}" in format_status(recent_activity(table, 10), [])
    page = pipeline.site_objects()[object_key_for(record.url)].decode()
    assert "make a key" in page and "never shown" not in page and "genkey" not in page
    assert pipeline.s3.get_object(Bucket=SOURCE, Key="_posts/keys.md")["Body"].read() == source
