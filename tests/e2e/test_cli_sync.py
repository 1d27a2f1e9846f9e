"""`blogpub publish` as a sync against the local stack, as the publish-on-push workflow runs it.

A Hexo blog in a temporary git repository: its ``source/`` folder holds the posts folder (the
stack's posts prefix), a page, an asset and a post asset folder. Pages and assets reach the
site where ``blogpub.sources`` publishes them; either way the site must equal a clean publish.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from blogpub.config import DEFAULT_POSTS_PREFIX
from blogpub.table import PostTable
from blogpub_cli.upload import upload_plan
from blogpub_local.stack import LocalStack

from tests.e2e.conftest import BLOGPUB, http_get, local_stack, s3_client, site_objects

pytestmark = pytest.mark.e2e

NULL_REF = "0" * 40  # github.event.before on a branch's first push
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4e20000000049454e44ae426082"
)


def post(title: str, date: str, tags: str = "[sync]", extra: str = "") -> str:
    return f"---\ntitle: {title}\ndate: {date}\ntags: {tags}\n{extra}---\n{title}: the body.\n"


@pytest.fixture(scope="module")
def sync_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: these tests compare its whole site bucket."""
    with local_stack(tmp_path_factory, "sync") as running:
        yield running


def publish(stack: LocalStack, *arguments: str, cwd: Path) -> dict[str, Any]:
    """`blogpub publish ... --json` as the workflow runs it, then wait for the pipeline."""
    assert stack.info is not None
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.endpoint, "AWS_DEFAULT_REGION": stack.region}
    env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    result = subprocess.run(
        [str(BLOGPUB), "publish", *arguments, "--bucket", stack.info.source_bucket, "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert stack.wait_until_idle(180)
    summary: dict[str, Any] = json.loads(result.stdout)
    summary["stderr"] = result.stderr
    return summary


def renders(stack: LocalStack) -> int:
    return sum(1 for name, _ in stack.invoker.results if name == "RenderPostFunction")


def source_keys(stack: LocalStack) -> list[str]:
    assert stack.info is not None
    listed = s3_client(stack).list_objects_v2(Bucket=stack.info.source_bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def git(repo: Path, *arguments: str) -> str:
    done = subprocess.run(["git", *arguments], cwd=repo, check=True, capture_output=True)
    return done.stdout.decode("utf-8").strip()


def new_repository(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "author@example.com")
    git(path, "config", "user.name", "Author")
    return path


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def keys_of(paths: list[str], published: set[str]) -> list[str]:
    """The keys of repository paths (below source/, or the site config beside it) that a full
    publish sends, sorted: what --since must send or delete for them."""
    keys = [path.removeprefix("source/") for path in paths]
    return sorted(key for key in keys if key in published)


def full_plan_keys(repo: Path) -> set[str]:
    """The keys a full publish of the repository's working tree sends."""
    return {upload.key for upload in upload_plan([repo / "source"], DEFAULT_POSTS_PREFIX).uploads}


def clean_site(
    factory: pytest.TempPathFactory, repo: Path, revision: str, name: str
) -> dict[str, bytes]:
    """The site of a full publish of ``revision``'s tree onto a fresh stack."""
    tree = factory.mktemp(f"tree-{name}")
    archive = subprocess.run(
        ["git", "archive", revision], cwd=repo, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as unpacked:
        unpacked.extractall(tree, filter="data")
    with local_stack(factory, f"clean-{name}") as fresh:
        publish(fresh, "source/", cwd=tree)
        return site_objects(fresh)


def test_republishing_uploads_and_renders_nothing_and_delete_updates_the_listings(
    sync_stack: LocalStack, tmp_path: Path
) -> None:
    stack = sync_stack
    posts = "source/" + DEFAULT_POSTS_PREFIX
    assert stack.info is not None and stack.info.posts_prefix == DEFAULT_POSTS_PREFIX
    blog = tmp_path / "blog"
    write(
        blog,
        {
            posts + "keep.md": post("Keep me", "2024-03-01 10:00:00"),
            posts + "drop.md": post("Drop me", "2024-03-02 10:00:00"),
            "source/about/index.md": "---\ntitle: About\n---\nAbout this blog.\n",
            "source/images/dot.png": PNG,
        },
    )
    first = publish(stack, "source/", cwd=blog)
    assert first["uploaded"] >= 2 and first["failed"] == 0
    site_before, renders_before = site_objects(stack), renders(stack)
    records_before = len(stack.delivered_records)

    again = publish(stack, "source/", cwd=blog)

    assert (again["uploaded"], again["unchanged"]) == (0, first["uploaded"])
    assert renders(stack) == renders_before and len(stack.delivered_records) == records_before
    assert site_objects(stack) == site_before

    (blog / posts / "drop.md").unlink()
    (blog / "source/about/index.md").unlink()
    dry = publish(stack, "source/", "--delete", "--dry-run", cwd=blog)
    assert (blog / posts / "keep.md").exists()
    assert (dry["dry_run"], dry["uploaded"]) == (True, 0)
    assert DEFAULT_POSTS_PREFIX + "drop.md" in dry["deletes"]
    assert site_objects(stack) == site_before and renders(stack) == renders_before
    assert source_keys(stack) == sorted([u["key"] for u in first["uploads"]]), (
        "a dry run changed the bucket"
    )

    table = PostTable(stack.clients["dynamodb"], stack.info.table)
    dropped = table.get_post(DEFAULT_POSTS_PREFIX + "drop.md")
    assert dropped is not None and dropped.url is not None
    deleted = publish(stack, "source/", "--delete", cwd=blog)

    assert DEFAULT_POSTS_PREFIX + "drop.md" in deleted["deletes"]
    assert "about/index.md" not in source_keys(stack)
    site = site_objects(stack)
    assert dropped.url.strip("/") + "/index.html" not in site
    assert "about/index.html" not in site
    listings = ("index.html", "archives/2024/03/index.html", "tags/sync/index.html", "atom.xml")
    for listing in listings:
        assert b"Keep me" in site[listing], listing
        assert b"Drop me" not in site[listing], listing
    sitemap = site["sitemaps/2024-03.xml"].decode("utf-8")
    assert "/2024/03/01/keep/" in sitemap and dropped.url not in sitemap
    assert b"Drop me" not in b"".join(site.values())
    assert http_get(stack.info.site_url + dropped.url).status == 404


def test_each_commit_published_since_the_previous_equals_a_clean_publish(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """The workflow's command after every commit: adds, edits, renames and deletes of posts,
    a page and assets. The site bucket then equals, byte for byte, a fresh stack's site after
    a full publish of that commit's tree."""
    posts = "source/" + DEFAULT_POSTS_PREFIX
    repo = new_repository(tmp_path / "blog")
    commits: list[tuple[str, dict[str, str | bytes], list[str], dict[str, str]]] = [
        (
            "first posts, a page, an image, a post asset folder",
            {
                posts + "alpha.md": post("Alpha", "2024-01-05 09:00:00", "[one, two]"),
                posts + "beta.md": post("Beta", "2024-02-06 09:00:00"),
                posts + "beta/figure.png": PNG,
                posts + "fixed.md": post(
                    "Fixed", "2024-02-07 09:00:00", extra="permalink: fixed/\n"
                ),
                "source/about/index.md": "---\ntitle: About\n---\nAbout.\n",
                "source/images/logo.png": PNG,
                "README.md": "not published\n",
                "_config.yml": "title: Sync test\npost_asset_folder: true\n",
            },
            [],
            {},
        ),
        (
            "edit a post, an image and the site config, add a post",
            {
                posts + "alpha.md": post("Alpha, edited", "2024-01-05 09:00:00", "[two]"),
                posts + "gamma.md": post("Gamma", "2024-03-07 09:00:00"),
                "source/images/logo.png": PNG + b"\0",
                "_config.yml": "title: Sync test, renamed\npost_asset_folder: true\n",
            },
            [],
            {},
        ),
        (
            "rename a post, a post with a fixed permalink and an image",
            {},
            [],
            {
                posts + "beta.md": posts + "beta-renamed.md",
                # Same URL: whichever event renders first, the new key ends up owning it.
                posts + "fixed.md": posts + "fixed-renamed.md",
                "source/images/logo.png": "source/images/brand.png",
            },
        ),
        (
            "delete a post, the page and an image; touch nothing published",
            {"README.md": "still not published\n"},
            [posts + "gamma.md", "source/about/index.md", "source/images/brand.png"],
            {},
        ),
    ]
    with local_stack(tmp_path_factory, "since") as stack:
        previous, sent_before = NULL_REF, set[str]()
        for number, (message, writes, deletes, renames) in enumerate(commits):
            write(repo, writes)
            for path in deletes:
                (repo / path).unlink()
            for old, new in renames.items():
                git(repo, "mv", old, new)
            head = commit(repo, message)

            summary = publish(stack, "source/", "--since", previous, "--delete", cwd=repo)

            assert summary["full_sync"] is (previous == NULL_REF), message
            assert summary["failed"] == 0
            puts = [*writes, *renames.values()]
            sent = full_plan_keys(repo)
            assert sorted(u["key"] for u in summary["uploads"]) == keys_of(puts, sent), message
            gone = keys_of([*deletes, *renames], sent_before - {"_config.yml"})
            assert summary["deletes"] == gone, message
            site = site_objects(stack)
            expected = clean_site(tmp_path_factory, repo, head, str(number))
            assert sorted(site) == sorted(expected), message
            differing = [key for key in expected if site[key] != expected[key]]
            assert differing == [], message
            previous, sent_before = head, sent
        assert summary["uploaded"] == 0 and summary["deleted"] == len(gone) > 0
        assert "Gamma" not in b"".join(site.values()).decode("utf-8", "replace")
        assert "Beta" in site["index.html"].decode("utf-8")
        assert "Sync test, renamed" in site["index.html"].decode("utf-8")
        assert b"Fixed: the body." in site["fixed/index.html"]
