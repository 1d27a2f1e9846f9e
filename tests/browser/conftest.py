"""Headless Chromium reading the local stack's site: the examples published once per session.

The browser is Debian's Chromium (scripts/install-browser.sh installs it), driven by the
Python `playwright` package, whose wheel bundles its driver; Playwright's own browser
download is never used. This machine has no internet: every request to another host is
recorded and answered here (images get a placeholder), never sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import pytest
from blogpub.models import Post
from blogpub.reader import read_post
from blogpub.settings import Settings, load_settings
from blogpub_local.local_commands import EXIT_OK, build_site
from blogpub_local.stack import LocalStack, StackOptions
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Response,
    Route,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import REPO, SEED_POST

TEMPLATE = REPO / "template.yaml"
EXAMPLES = REPO / "examples" / "posts"
SCREENSHOT_ARTIFACTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("BLOGPUB_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# closed network refuses; --no-sandbox because CI runs as root.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT_HEIGHTS = {1280: 800, 375: 812}
WIDTHS = tuple(VIEWPORT_HEIGHTS)
PUBLISH_TIMEOUT_SECONDS = 180
IMAGES_SETTLE_MS = 10_000
PLACEHOLDER_IMAGE = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="690" height="388" viewBox="0 0 690 388">'
    b'<rect width="690" height="388" fill="#8c959f"/>'
    b'<text x="345" y="200" font-family="sans-serif" font-size="28" fill="#ffffff" '
    b'text-anchor="middle">hot-linked image (offline in tests)</text></svg>'
)
# Steps through the page so that every loading="lazy" image is requested, then back to the top.
SCROLL_THROUGH_JS = """async () => {
  const step = Math.max(200, Math.floor(window.innerHeight / 2));
  for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
    window.scrollTo(0, y);
    await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 20)));
  }
  window.scrollTo(0, 0);
}"""
# The outermost elements that reach past the viewport's right edge, as "tag.class" paths.
OVERFLOWING_ELEMENTS_JS = """() => {
  const limit = document.documentElement.clientWidth;
  const name = (e) => e.tagName.toLowerCase()
    + (e.classList.length ? '.' + [...e.classList].join('.') : '');
  const wide = [...document.body.querySelectorAll('*')].filter(
    (e) => e.getBoundingClientRect().right > limit + 0.5);
  return wide.filter((e) => !wide.includes(e.parentElement)).slice(0, 5).map((e) => {
    const path = [];
    for (let node = e; node && node !== document.body; node = node.parentElement) {
      path.unshift(name(node));
    }
    return path.join(' > ');
  });
}"""
IMAGES_SETTLED_JS = "() => Array.from(document.images).every((image) => image.complete)"

ColorScheme = Literal["light", "dark"]


@dataclass(frozen=True)
class PublishedSite:
    """The examples as the pipeline published them, served like CloudFront serves them."""

    local_origin: str  # http://127.0.0.1:<port>, the stack's site server
    settings: Settings  # the examples' _config.yml (defaults where there is none)
    seed: Post
    seed_path: str  # percent-encoded site path of the seed post's page
    page_paths: frozenset[str]  # every object the pipeline wrote, as a decoded site path

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.settings.url)
        return f"{parts.scheme}://{parts.netloc}"

    def url(self, path: str) -> str:
        return self.local_origin + path


@dataclass
class ReaderTab:
    """One browser tab of a given width and colour scheme, with what it saw."""

    context: BrowserContext
    page: Page
    site_origin: str
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    external_hosts: set[str] = field(default_factory=set)

    @property
    def viewport_width(self) -> int:
        size = self.page.viewport_size
        assert size is not None
        return size["width"]

    def read(self, url: str) -> Response:
        """Open ``url``, scroll through it so lazy images load, and wait until they have."""
        response = self.page.goto(url, wait_until="load")
        assert response is not None, url
        self.page.evaluate(SCROLL_THROUGH_JS)
        self.page.wait_for_function(IMAGES_SETTLED_JS, timeout=IMAGES_SETTLE_MS)
        return response

    def horizontal_overflow(self) -> tuple[int, list[str]]:
        """How many CSS pixels the page is wider than the viewport, and what sticks out."""
        scroll_width, inner_width = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        overflow = max(0, int(scroll_width) - int(inner_width))
        culprits: list[str] = self.page.evaluate(OVERFLOWING_ELEMENTS_JS) if overflow else []
        return overflow, culprits

    def answer_request(self, route: Route) -> None:
        request = urlsplit(route.request.url)
        if f"{request.scheme}://{request.netloc}" == self.site_origin:
            route.continue_()
            return
        self.external_hosts.add(request.hostname or request.netloc)
        if route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER_IMAGE)
        else:
            route.abort("blockedbyclient")

    def record_console(self, kind: str, text: str, where: str) -> None:
        if kind == "error":
            source = f"{where} on " if where and where != self.page.url else ""
            self.console_errors.append(f"{text} ({source}{self.page.url})")
            if "Content Security Policy" in text:
                self.csp_violations.append(f"{text} ({self.page.url})")


TabOpener = Callable[..., ReaderTab]


def post_source_key(path: Path, posts_prefix: str) -> str:
    return posts_prefix + path.relative_to(EXAMPLES).as_posix()


def published_paths(site_dir: Path) -> frozenset[str]:
    """Site paths of the downloaded bucket: "a/index.html" is served as "/a/"."""
    paths = set()
    for file in site_dir.rglob("*"):
        if not file.is_file() or file.name == "report.json":
            continue
        key = file.relative_to(site_dir).as_posix()
        paths.add("/" + key.removesuffix("index.html"))
    return frozenset(paths)


@pytest.fixture(scope="package")
def published_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublishedSite]:
    """examples/posts uploaded through S3 to the real pipeline on the embedded stack."""
    workdir = tmp_path_factory.mktemp("browser-stack")
    config = EXAMPLES / "_config.yml"
    settings = load_settings(config.read_bytes() if config.is_file() else None)
    options = StackOptions(TEMPLATE, stack_name="blogpub-browser", state_file=workdir / "l.json")
    with LocalStack(options) as stack:
        assert stack.info is not None
        prefix = stack.info.posts_prefix
        report = build_site(stack, EXAMPLES, workdir / "site", prefix, PUBLISH_TIMEOUT_SECONDS)
        if report.exit_code != EXIT_OK:
            pytest.fail(f"publishing examples/posts failed:\n{report.summary(workdir)}")
        seed_key = post_source_key(SEED_POST, prefix)
        seed_url = next(post.url for post in report.posts if post.source_key == seed_key)
        assert seed_url is not None, f"{seed_key} was not published"
        yield PublishedSite(
            local_origin=stack.info.site_url,
            settings=settings,
            seed=read_post(SEED_POST.read_bytes(), seed_key, settings),
            seed_path=seed_url,
            page_paths=published_paths(workdir / "site"),
        )


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; a missing browser fails the tests, it never skips them."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: the browser tests need Debian's chromium package. "
            "Run scripts/install-browser.sh as root (`make test` does), or "
            "`sudo apt-get install chromium fonts-wqy-microhei`, or point BLOGPUB_CHROMIUM "
            "at a Chromium binary. To run every other test: pytest -m 'not browser'.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
            )
        except PlaywrightError as error:
            pytest.fail(f"{CHROMIUM} did not start headless: {error.message}", pytrace=False)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def open_tab(chromium: Browser, published_site: PublishedSite) -> Iterator[TabOpener]:
    """open_tab(width, color_scheme="light") -> a ReaderTab on the published site."""
    tabs: list[ReaderTab] = []

    def open_one(width: int, color_scheme: ColorScheme = "light") -> ReaderTab:
        context = chromium.new_context(
            viewport={"width": width, "height": VIEWPORT_HEIGHTS[width]},
            color_scheme=color_scheme,
            device_scale_factor=1,
        )
        tab = ReaderTab(context, context.new_page(), published_site.local_origin)
        context.route("**/*", tab.answer_request)
        tab.page.on(
            "console",
            lambda message: tab.record_console(
                message.type, message.text, message.location.get("url", "")
            ),
        )
        tab.page.on("pageerror", lambda error: tab.record_console("error", str(error), ""))
        tabs.append(tab)
        return tab

    yield open_one
    for tab in tabs:
        tab.context.close()
