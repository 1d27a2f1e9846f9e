"""A site below `root: /blog/` end to end: the local stack started with SiteRoot=/blog/ serves it
there from objects kept without the root, and every link, feed, sitemap, robots line and
redirect carries the root."""

from __future__ import annotations

import http.client
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import feedparser
import pytest
from blogpub_local.stack import LocalStack, StackOptions

from tests.e2e.conftest import TEMPLATE, s3_client, site_objects

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "posts"
ROOT = "/blog/"
URL = "https://blog.example/blog"
CONFIG = f"""title: Below a root
url: {URL}
root: {ROOT}
feed:
  type: [atom, rss2]
  path: [atom.xml, rss2.xml]
"""
LINK = re.compile(r'(?:href|src)="([^"]+)"')
SITEMAP_LOC = "{http://www.sitemaps.org/schemas/sitemap/0.9}loc"


def request(stack: LocalStack, path: str) -> tuple[int, dict[str, str], bytes]:
    """One GET as a browser sends it, redirects not followed."""
    assert stack.info is not None
    address = urlsplit(stack.info.site_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    options = StackOptions(
        TEMPLATE,
        stack_name="blogpub-root",
        state_file=tmp_path_factory.mktemp("root") / "local.json",
        parameters={"SiteRoot": ROOT},
    )
    with LocalStack(options) as stack:
        assert stack.info is not None
        s3 = s3_client(stack)
        s3.put_object(Bucket=stack.info.source_bucket, Key="_config.yml", Body=CONFIG.encode())
        assert stack.wait_until_idle(120)
        for path in sorted(EXAMPLES.rglob("*.md")):
            key = "_posts/" + path.relative_to(EXAMPLES).as_posix()
            s3.put_object(Bucket=stack.info.source_bucket, Key=key, Body=path.read_bytes())
        assert stack.wait_until_idle(300)
        yield stack


def test_objects_are_kept_without_the_root(blog: LocalStack) -> None:
    keys = set(site_objects(blog))
    assert {"index.html", "atom.xml", "rss2.xml", "sitemap.xml", "robots.txt"} <= keys
    assert not any(key.startswith("blog/") for key in keys)


def test_every_internal_link_and_image_carries_the_root_and_resolves(blog: LocalStack) -> None:
    seen: set[str] = set()
    queue = [ROOT]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        status, headers, body = request(blog, path)
        assert status == 200, path
        if not headers["Content-Type"].startswith("text/html"):
            continue
        for link in LINK.findall(body.decode("utf-8")):
            target = urldefrag(link.replace("&amp;", "&"))[0]
            if target.startswith("/") and not target.startswith("//"):
                assert target.startswith(ROOT), (path, target)
                queue.append(target)
    assert len(seen) > 20
    assert any("/categories/" in path for path in seen)


def test_absolute_urls_count_the_subdirectory_once(blog: LocalStack) -> None:
    _, _, home = request(blog, ROOT)
    assert f'<link rel="canonical" href="{URL}/">' in home.decode()
    _, _, robots = request(blog, ROOT + "robots.txt")
    assert f"Sitemap: {URL}/sitemap.xml" in robots.decode()
    _, _, index = request(blog, ROOT + "sitemap.xml")
    months = [loc.text or "" for loc in ET.fromstring(index).iter(SITEMAP_LOC)]
    assert months and all(loc.startswith(URL + "/sitemaps/") for loc in months)
    _, _, month = request(blog, urlsplit(months[0]).path)
    posts = [loc.text or "" for loc in ET.fromstring(month).iter(SITEMAP_LOC)]
    for loc in posts:
        assert loc.startswith(URL + "/") and "/blog/blog/" not in loc
        assert request(blog, urlsplit(loc).path)[0] == 200, loc
    for feed in ("atom.xml", "rss2.xml"):
        status, _, body = request(blog, ROOT + feed)
        parsed = feedparser.parse(body)
        assert status == 200 and not parsed.bozo, feed
        assert all(entry.link.startswith(URL + "/") for entry in parsed.entries)
        self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
        assert self_links == [f"{URL}/{feed}"]


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/blog/page/2/", "/blog/"),
        ("/blog/archives/page/3/", "/blog/archives/"),
        ("/blog/archives/2022/02/page/2/", "/blog/archives/2022/02/"),
        ("/blog/categories/%E7%BC%96%E7%A8%8B/page/2/", "/blog/categories/%E7%BC%96%E7%A8%8B/"),
        ("/blog/tags/x/page/4/", "/blog/tags/x/"),
    ],
)
def test_hexo_pagination_below_the_root_answers_301(
    blog: LocalStack, path: str, location: str
) -> None:
    status, headers, _ = request(blog, path)
    assert (status, headers["Location"]) == (301, location)


def test_the_bare_host_is_sent_to_the_root_and_paths_outside_it_are_404(
    blog: LocalStack,
) -> None:
    status, headers, _ = request(blog, "/")
    assert (status, headers["Location"]) == (302, ROOT)
    keys = [key for key in site_objects(blog) if key.endswith("/index.html")]
    post_path = "/" + keys[0].removesuffix("index.html")
    assert request(blog, unquote(ROOT.rstrip("/")) + post_path)[0] == 200
    assert request(blog, post_path)[0] == 404
