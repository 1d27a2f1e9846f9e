"""A reader's crawl of the whole site from its home page: no broken link, no wrong content type.

Links followed: every <a href>, <link rel=alternate|canonical>, Atom <link href>, sitemap
<loc> and robots.txt `Sitemap:` line that points at the site, whether written relative, as
the local server's address or as the public `url` of _config.yml (mapped onto the local one).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from tests.browser.conftest import PublishedSite, ReaderTab, TabOpener

pytestmark = pytest.mark.browser

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
CRAWL_ENTRY_PATHS = ("/", "/robots.txt")
# Tags a page's DOM hands to the crawl: (href as the browser resolved it, declared type).
STYLESHEETS_JS = """() => Array.from(document.querySelectorAll('link[rel~="stylesheet"][href]'))
  .map((element) => element.href)"""
PAGE_LINKS_JS = """() => Array.from(document.querySelectorAll(
  'a[href], link[rel~="alternate"][href], link[rel~="canonical"][href]'
)).map((element) => [element.href, element.getAttribute('type') || ''])"""


@dataclass
class CrawledPage:
    url: str
    status: int
    content_type: str
    body_kind: str  # the media type the body actually is
    links: list[tuple[str, str]] = field(default_factory=list)  # (url, declared type)
    stylesheets: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def internal_url(href: str, site: PublishedSite) -> str | None:
    """The local address of a link into the site, without its fragment; None for others."""
    parts = urlsplit(href)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin not in (site.local_origin, site.public_origin):
        return None
    query = f"?{parts.query}" if parts.query else ""
    return site.local_origin + (parts.path or "/") + query


def body_media_type(body: bytes) -> str:
    """What the bytes are, read from themselves: HTML, an Atom feed, a sitemap, or text."""
    head = body.lstrip()[:64].lower()
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        return "text/html"
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        root = ElementTree.fromstring(body).tag
        if root == f"{ATOM}feed":
            return "application/atom+xml"
        if root in (f"{SITEMAP}urlset", f"{SITEMAP}sitemapindex"):
            return "application/xml"
        return f"unknown XML <{root}>"
    return "text/plain"


def xml_links(body: bytes, base_url: str) -> list[tuple[str, str]]:
    """Atom entry/feed <link href>s and sitemap <loc>s, absolute."""
    root = ElementTree.fromstring(body)
    links = [(urljoin(base_url, link.get("href", "")), "") for link in root.iter(f"{ATOM}link")]
    links += [
        (urljoin(base_url, (loc.text or "").strip()), "") for loc in root.iter(f"{SITEMAP}loc")
    ]
    return links


def robots_links(body: bytes, base_url: str) -> list[tuple[str, str]]:
    lines = body.decode("utf-8").splitlines()
    return [
        (urljoin(base_url, line.split(":", 1)[1].strip()), "application/xml")
        for line in lines
        if line.lower().startswith("sitemap:")
    ]


def visit(tab: ReaderTab, url: str) -> CrawledPage:
    response = tab.page.goto(url, wait_until="load")
    assert response is not None, url
    body = response.body()
    page = CrawledPage(
        url, response.status, response.headers.get("content-type", ""), body_media_type(body)
    )
    page.headers = dict(response.headers)
    if page.body_kind == "text/html":
        page.links = [(href, kind) for href, kind in tab.page.evaluate(PAGE_LINKS_JS)]
        page.stylesheets = list(tab.page.evaluate(STYLESHEETS_JS))
    elif page.body_kind == "text/plain" and urlsplit(url).path.endswith("/robots.txt"):
        page.links = robots_links(body, url)
    elif page.body_kind != "text/plain":
        page.links = xml_links(body, url)
    return page


def crawl(tab: ReaderTab, site: PublishedSite) -> tuple[dict[str, CrawledPage], dict[str, str]]:
    """Every page reachable from the entry paths, and for each link target who linked it."""
    linked_from = {site.url(path): "(crawl entry)" for path in CRAWL_ENTRY_PATHS}
    to_visit = deque(linked_from)
    crawled: dict[str, CrawledPage] = {}
    while to_visit:
        url = to_visit.popleft()
        page = crawled[url] = visit(tab, url)
        for href, _ in page.links:
            target = internal_url(href, site)
            if target is not None and target not in linked_from:
                linked_from[target] = url
                to_visit.append(target)
    return crawled, linked_from


@pytest.fixture(scope="module")
def crawl_result(
    open_tab: TabOpener, published_site: PublishedSite
) -> tuple[ReaderTab, dict[str, CrawledPage], dict[str, str]]:
    tab = open_tab(1280)
    crawled, linked_from = crawl(tab, published_site)
    return tab, crawled, linked_from


def test_no_broken_internal_link(
    crawl_result: tuple[ReaderTab, dict[str, CrawledPage], dict[str, str]],
) -> None:
    _, crawled, linked_from = crawl_result
    broken = {url: (page.status, linked_from[url]) for url, page in crawled.items()}
    broken = {url: found for url, found in broken.items() if found[0] != 200}
    assert broken == {}


def test_every_page_is_served_with_the_content_type_of_its_body(
    crawl_result: tuple[ReaderTab, dict[str, CrawledPage], dict[str, str]],
) -> None:
    _, crawled, _ = crawl_result
    wrong = {
        url: (page.content_type, page.body_kind)
        for url, page in crawled.items()
        if page.content_type.split(";")[0].strip().lower() != page.body_kind
        or "charset=utf-8" not in page.content_type.lower().replace(" ", "")
    }
    assert wrong == {}


def test_declared_link_types_match_what_is_served(
    crawl_result: tuple[ReaderTab, dict[str, CrawledPage], dict[str, str]],
    published_site: PublishedSite,
) -> None:
    _, crawled, _ = crawl_result
    mismatched = set()
    for page in crawled.values():
        for href, declared in page.links:
            target = internal_url(href, published_site)
            if declared and target is not None and crawled[target].body_kind != declared:
                mismatched.add((page.url, href, declared, crawled[target].body_kind))
    assert mismatched == set()


def test_the_crawl_reaches_every_published_page(
    crawl_result: tuple[ReaderTab, dict[str, CrawledPage], dict[str, str]],
    published_site: PublishedSite,
) -> None:
    _, crawled, _ = crawl_result
    reached = {unquote(urlsplit(url).path) for url in crawled}
    # The theme's stylesheet is loaded by every page, not navigated to.
    reached |= {unquote(urlsplit(href).path) for p in crawled.values() for href in p.stylesheets}
    # The 404 page is served for missing paths, never linked.
    unreached = published_site.page_paths - reached - {"/404.html"}
    assert unreached == set()
    navigable = {path for path in published_site.page_paths if not path.startswith("/assets/")}
    assert len(crawled) >= len(navigable) - 1


def test_no_console_errors_on_any_page(
    crawl_result: tuple[ReaderTab, dict[str, CrawledPage], dict[str, str]],
) -> None:
    tab, _, _ = crawl_result
    assert tab.console_errors == []


def test_every_page_is_served_under_the_content_security_policy_without_violation(
    crawl_result: tuple[ReaderTab, dict[str, CrawledPage], dict[str, str]],
) -> None:
    tab, crawled, _ = crawl_result
    html = [page for page in crawled.values() if page.body_kind == "text/html"]
    policies = {page.headers.get("content-security-policy") for page in html}
    assert len(policies) == 1
    (policy,) = policies
    assert policy is not None and "script-src 'none'" in policy and "style-src 'self'" in policy
    # Feeds and sitemaps: no script either (default-src 'none'), inline style for XML viewers.
    xml = [page for page in crawled.values() if page.body_kind not in ("text/html", "text/plain")]
    assert xml
    for page in xml:
        assert page.headers.get("content-security-policy", "").startswith("default-src 'none'")
    assert all(page.headers.get("x-content-type-options") == "nosniff" for page in crawled.values())
    assert tab.csp_violations == []


def test_every_html_page_links_the_one_content_hashed_stylesheet(
    crawl_result: tuple[ReaderTab, dict[str, CrawledPage], dict[str, str]],
) -> None:
    tab, crawled, _ = crawl_result
    html = [page for page in crawled.values() if page.body_kind == "text/html"]
    linked = {href for page in html for href in page.stylesheets}
    assert all(page.stylesheets for page in html)
    assert len(linked) == 1
    (href,) = linked
    assert re.search(r"/assets/style\.[0-9a-f]{12}\.css$", href)
    response = tab.page.request.get(href)
    assert response.headers["content-type"].startswith("text/css")
    assert "immutable" in response.headers["cache-control"]
