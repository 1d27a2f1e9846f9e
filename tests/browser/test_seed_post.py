"""The seed post as a reader sees it, on a desktop (1280 px) and a phone (375 px)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from blogpub.dates import local_date
from blogpub.models import Post
from playwright.sync_api import Locator

from tests.browser.conftest import WIDTHS, PublishedSite, ReaderTab, TabOpener

pytestmark = pytest.mark.browser

IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
RGB = re.compile(r"rgba?\((\d+),\s*(\d+),\s*(\d+)")


def source_image_urls(post: Post) -> list[str]:
    """Every image the author's file names: the cover keys and the body's images."""
    urls = [post.cover] if post.cover else []
    return urls + IMG_SRC.findall(post.body) + MARKDOWN_IMAGE.findall(post.body)


def image_hosts(post: Post) -> set[str]:
    return {urlsplit(url).hostname or "" for url in source_image_urls(post)} - {""}


def relative_luminance(css_colour: str) -> float:
    """WCAG relative luminance of a computed "rgb(r, g, b)" colour, 0 (black) to 1 (white)."""
    found = RGB.match(css_colour)
    assert found is not None, css_colour
    linear = []
    for channel in (int(value) / 255 for value in found.groups()):
        linear.append(channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4)
    red, green, blue = linear
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def page_colours(tab: ReaderTab) -> tuple[str, str]:
    """(background, text) colour of the body as the browser computed them."""
    colours: list[str] = tab.page.evaluate(
        "() => { const style = getComputedStyle(document.body);"
        " return [style.backgroundColor, style.color]; }"
    )
    return colours[0], colours[1]


def assert_in_first_screen(locator: Locator, tab: ReaderTab) -> None:
    """Visible, and inside the viewport as the page opens: no scrolling, no clipping."""
    assert locator.is_visible(), locator
    box = locator.bounding_box()
    assert box is not None, locator
    size = tab.page.viewport_size
    assert size is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (locator, box)
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (locator, box)


@pytest.fixture(scope="module", params=WIDTHS, ids=lambda width: f"{width}px")
def seed_tab(
    request: pytest.FixtureRequest, open_tab: TabOpener, published_site: PublishedSite
) -> Iterator[ReaderTab]:
    tab = open_tab(request.param)
    response = tab.read(published_site.url(published_site.seed_path))
    assert response.status == 200, response.url
    yield tab


def test_no_console_errors(seed_tab: ReaderTab) -> None:
    assert seed_tab.console_errors == []


def test_only_the_site_and_the_posts_image_hosts_are_contacted(
    seed_tab: ReaderTab, published_site: PublishedSite
) -> None:
    allowed = image_hosts(published_site.seed)
    assert allowed, "the seed post hot-links its images"
    assert seed_tab.external_hosts, "the hot-linked images were requested"
    assert seed_tab.external_hosts <= allowed


def test_every_image_sends_no_referrer(seed_tab: ReaderTab, published_site: PublishedSite) -> None:
    policies: list[str] = seed_tab.page.eval_on_selector_all(
        "img", "images => images.map((image) => image.referrerPolicy)"
    )
    assert len(policies) >= len(source_image_urls(published_site.seed))
    assert set(policies) == {"no-referrer"}


def test_title_date_author_and_category_breadcrumb_are_visible(
    seed_tab: ReaderTab, published_site: PublishedSite
) -> None:
    post, page = published_site.seed, seed_tab.page
    title = page.get_by_role("heading", level=1)
    assert title.inner_text().strip() == post.title
    assert_in_first_screen(title, seed_tab)
    date = page.locator("article header time").first
    assert (
        date.inner_text().strip()
        == local_date(post.date, published_site.settings.tz).date().isoformat()
    )
    assert_in_first_screen(date, seed_tab)
    author = page.locator("article header .author")
    assert post.author is not None and author.inner_text().strip() == post.author
    assert_in_first_screen(author, seed_tab)
    breadcrumb = page.locator("article nav.breadcrumb").first
    assert_in_first_screen(breadcrumb, seed_tab)
    crumbs = [text.strip() for text in breadcrumb.locator("a").all_inner_texts()]
    assert crumbs == list(post.categories[0])


def test_no_horizontal_overflow(seed_tab: ReaderTab) -> None:
    assert seed_tab.horizontal_overflow() == (0, [])


def test_dark_mode_follows_the_browser_preference(
    seed_tab: ReaderTab, open_tab: TabOpener, published_site: PublishedSite
) -> None:
    dark_tab = open_tab(seed_tab.viewport_width, color_scheme="dark")
    dark_tab.read(published_site.url(published_site.seed_path))
    light_background, light_text = page_colours(seed_tab)
    dark_background, dark_text = page_colours(dark_tab)
    assert relative_luminance(light_background) > 0.8
    assert relative_luminance(dark_background) < 0.1
    assert relative_luminance(dark_text) > relative_luminance(dark_background) + 0.5
    assert light_text != dark_text
    assert dark_tab.console_errors == []
