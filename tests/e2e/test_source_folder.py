"""A Hexo source/ folder published onto the local stack: pages, assets and post asset folders.

Every internal link and image of the resulting site must resolve (a checker over the site
bucket, the browser crawl's rule without a browser); deleting a page or an asset removes it;
rolling a post back restores its asset folder as it was.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from blogpub.assets import post_asset_names
from blogpub.models import object_key_for
from blogpub.table import PostTable
from blogpub.tags.hexo import asset_url
from blogpub.tags.model import TagContext
from blogpub_cli.upload import upload_all, upload_plan
from blogpub_local.stack import LocalStack

from tests.conftest import REPO, corpus_blog
from tests.e2e.conftest import local_stack, s3_client, site_objects, stack_client

pytestmark = pytest.mark.e2e

EXAMPLE = REPO / "examples" / "hexo-source"
POST_KEY = "_posts/hello-assets.md"
POST_URL = "/2024/03/09/hello-assets/"


class _References(HTMLParser):
    """Every href and src of a page: links, images, stylesheets, scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append((tag, value))


def broken_references(site: dict[str, bytes], site_root: str = "/") -> list[tuple[str, str]]:
    """(page, reference) pairs of internal links and images that name no site object."""
    broken = []
    for key, body in sorted(site.items()):
        if not key.endswith(".html"):
            continue
        page_url = "/" + key.removesuffix("index.html")
        parser = _References()
        parser.feed(body.decode("utf-8", "replace"))
        for _tag, reference in parser.found:
            parts = urlsplit(urljoin("http://site" + page_url, reference))
            if parts.netloc != "site" or not parts.path.startswith(site_root):
                continue  # another site, mailto:, javascript: (sanitised away anyway)
            target = object_key_for(unquote(parts.path))
            if target not in site:
                broken.append((page_url, reference))
    return broken


def publish_folder(stack: LocalStack, *paths: Path) -> list[str]:
    """``blogpub publish``'s plan and upload, then wait until the pipeline is idle."""
    assert stack.info is not None
    plan = upload_plan(paths, "_posts/")
    upload_all(s3_client(stack), stack.info.source_bucket, plan.uploads, progress=io.StringIO())
    assert stack.wait_until_idle(600)
    return [upload.key for upload in plan.uploads]


def invoke_rollback(stack: LocalStack, payload: dict[str, Any]) -> dict[str, Any]:
    assert stack.info is not None
    response = stack_client(stack, "lambda").invoke(
        FunctionName=stack.info.functions["RollbackFunction"], Payload=json.dumps(payload).encode()
    )
    assert "FunctionError" not in response
    answer: dict[str, Any] = json.loads(response["Payload"].read())
    assert stack.wait_until_idle(180)
    return answer


@pytest.fixture(scope="module")
def example_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: the example's _config.yml turns post_asset_folder on."""
    with local_stack(tmp_path_factory, "source") as running:
        publish_folder(running, EXAMPLE)
        yield running


def test_the_example_folder_publishes_posts_pages_and_assets(example_stack: LocalStack) -> None:
    site = site_objects(example_stack)

    assert "about/index.html" in site and "About this blog" in site["about/index.html"].decode()
    assert site["images/logo.svg"] == (EXAMPLE / "images" / "logo.svg").read_bytes()
    assert site["images/gradient.png"] == (EXAMPLE / "images" / "gradient.png").read_bytes()
    assert site["files/readme.txt"] == (EXAMPLE / "files" / "readme.txt").read_bytes()
    folder = EXAMPLE / "_posts" / "hello-assets"
    assert site[POST_URL.lstrip("/") + "diagram.svg"] == (folder / "diagram.svg").read_bytes()
    assert site[POST_URL.lstrip("/") + "notes.txt"] == (folder / "notes.txt").read_bytes()
    assert not any("unfinished" in key or "_drafts" in key for key in site)
    assert "About this blog" not in site["index.html"].decode()  # pages are not listed


def test_every_internal_link_and_image_of_the_example_site_resolves(
    example_stack: LocalStack,
) -> None:
    site = site_objects(example_stack)

    assert broken_references(site) == []
    page = site[POST_URL.lstrip("/") + "index.html"].decode()
    assert 'src="diagram.svg"' in page  # the relative Markdown image, resolved above


def test_asset_tags_resolve_to_the_folder_s_published_files(example_stack: LocalStack) -> None:
    assert example_stack.info is not None
    s3 = s3_client(example_stack)

    names = post_asset_names(s3, example_stack.info.source_bucket, POST_KEY)
    context = TagContext(render_markdown=str, post_url=POST_URL, assets=names)
    site = site_objects(example_stack)

    assert names == {"diagram.svg", "notes.txt"}
    for name in sorted(names):
        assert object_key_for(unquote(asset_url(name, context))) in site


def test_deleting_a_page_and_an_asset_removes_them(example_stack: LocalStack) -> None:
    assert example_stack.info is not None
    s3, bucket = s3_client(example_stack), example_stack.info.source_bucket
    s3.delete_object(Bucket=bucket, Key="files/readme.txt")
    s3.delete_object(Bucket=bucket, Key="about/index.md")
    assert example_stack.wait_until_idle(120)

    site = site_objects(example_stack)
    assert "files/readme.txt" not in site
    assert "about/index.html" not in site
    table = PostTable(example_stack.clients["dynamodb"], example_stack.info.table)
    assert table.url_owner("/about/") is None and table.url_owner("/files/readme.txt") is None


def test_rolling_a_post_back_restores_its_assets(example_stack: LocalStack) -> None:
    assert example_stack.info is not None
    s3, bucket = s3_client(example_stack), example_stack.info.source_bucket
    diagram = POST_URL.lstrip("/") + "diagram.svg"
    before = site_objects(example_stack)[diagram]
    # One commit: the post and its picture change together; a new picture is added.
    edited = (EXAMPLE / "_posts" / "hello-assets.md").read_text().replace("Hexo keeps", "Now")
    s3.put_object(Bucket=bucket, Key=POST_KEY, Body=edited.encode())
    s3.put_object(Bucket=bucket, Key="_posts/hello-assets/diagram.svg", Body=b"<svg/>")
    s3.put_object(Bucket=bucket, Key="_posts/hello-assets/new.png", Body=b"\x89PNG new")
    assert example_stack.wait_until_idle(120)
    assert site_objects(example_stack)[diagram] == b"<svg/>"

    answer = invoke_rollback(
        example_stack, {"action": "rollback", "key": POST_KEY, "steps": 1, "requested_by": "e2e"}
    )

    restored = {change["key"] for change in answer["changes"]}
    assert restored >= {POST_KEY, "_posts/hello-assets/diagram.svg", "_posts/hello-assets/new.png"}
    site = site_objects(example_stack)
    assert site[diagram] == before
    assert POST_URL.lstrip("/") + "new.png" not in site
    assert "Hexo keeps" in site[POST_URL.lstrip("/") + "index.html"].decode()


def test_verify_covers_pages_and_assets_and_rebuild_restores_them(
    example_stack: LocalStack,
) -> None:
    assert example_stack.info is not None
    s3, site_bucket = s3_client(example_stack), example_stack.info.site_bucket
    s3.put_object(
        Bucket=example_stack.info.source_bucket, Key="about/index.md", Body=b"---\ntitle: A\n---\nx"
    )
    assert example_stack.wait_until_idle(120)
    first = invoke_rollback(example_stack, {"action": "verify"})
    assert first["clean"] is True, first["drift"]
    logo = (EXAMPLE / "images" / "logo.svg").read_bytes()
    s3.delete_object(Bucket=site_bucket, Key="images/logo.svg")
    s3.put_object(Bucket=site_bucket, Key="about/index.html", Body=b"tampered")

    report = invoke_rollback(example_stack, {"action": "verify"})

    drift = {(d["kind"], d["url"]) for d in report["drift"]}
    assert drift == {("missing-page", "/images/logo.svg"), ("stale-page", "/about/")}

    assert invoke_rollback(example_stack, {"action": "rebuild", "reason": "repair"})["ok"]
    assert invoke_rollback(example_stack, {"action": "verify"})["clean"] is True
    site = site_objects(example_stack)
    assert site["images/logo.svg"] == logo
    assert b"tampered" not in site["about/index.html"]


# The blog's experiments/ folder holds 1,104 of its 1,206 post assets (27 MB): the rest of
# the blog (23 posts with ~100 assets in their folders, its pages and images) publishes in a
# minute on the local stack, where the whole of it takes over ten.
CORPUS_LEFT_OUT = ("_posts/experiments",)


def corpus_source_subset(source: Path, into: Path) -> Path:
    shutil.copytree(
        source,
        into,
        ignore=lambda folder, names: [
            name
            for name in names
            if (Path(folder) / name).relative_to(source).as_posix() in CORPUS_LEFT_OUT
        ],
    )
    return into


@pytest.mark.corpus
def test_a_real_blog_with_asset_folders_publishes_with_every_image_resolving(
    tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path
) -> None:
    blog = corpus_blog("jasonren0403__blog-of-jason")
    source = corpus_source_subset(blog.root / "source", tmp_path_factory.mktemp("jason") / "src")
    with local_stack(tmp_path_factory, "corpus-source") as stack:
        uploaded = publish_folder(stack, source, blog.root / "_config.yml")
        site = site_objects(stack)
        assert stack.info is not None
        records = PostTable(stack.clients["dynamodb"], stack.info.table).get_posts(uploaded)

    post_assets = [key for key in uploaded if key.startswith("_posts/") and not key.endswith(".md")]
    placed = [records[key] for key in post_assets if records[key].status == "published"]
    assert len(post_assets) > 90 and len(placed) == len(post_assets)
    assert all(object_key_for(record.url or "") in site for record in placed)
    assert site["images/avatar-v1.png"] == (source / "images" / "avatar-v1.png").read_bytes()
    assert "todo/index.html" in site  # a page of the blog
    # Hexo themes keep source/categories/index.md for their overview; blogpub writes its own.
    assert records["categories/index.md"].last_error_reason == "bad-permalink"
    images = [b for b in broken_references(site) if b[1].lower().endswith(IMAGE_SUFFIXES)]
    assert images == []


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
