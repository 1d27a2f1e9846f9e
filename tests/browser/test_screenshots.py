"""Screenshots a person can look at: the seed post, home, a category and the 404 page.

Every run writes full-page PNGs to test-artifacts/screenshots/ (gitignored). The two the
README shows live in docs/screenshots/ and are rewritten only with
BLOGPUB_UPDATE_SCREENSHOTS=1, so that the committed files change only on purpose.
"""

from __future__ import annotations

import os
import struct

import pytest
from blogpub.urls import category_refs, encode_path, landing_url

from tests.browser.conftest import (
    SCREENSHOT_ARTIFACTS,
    VIEWPORT_HEIGHTS,
    WIDTHS,
    PublishedSite,
    ReaderTab,
    TabOpener,
)
from tests.conftest import REPO

pytestmark = pytest.mark.browser

UPDATE_README_SHOTS = os.environ.get("BLOGPUB_UPDATE_SCREENSHOTS") == "1"
README_SHOTS = REPO / "docs" / "screenshots"
NOT_FOUND_PATH = "/no-such-page/"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def shot_pages(site: PublishedSite) -> dict[str, tuple[str, int]]:
    """Screenshot name -> (site path, the status the page is served with)."""
    top_category = category_refs(site.seed, site.settings)[0]
    return {
        "post": (site.seed_path, 200),
        "home": ("/", 200),
        "category": (encode_path(landing_url(top_category)), 200),
        "404": (NOT_FOUND_PATH, 404),
    }


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which a PNG always starts with."""
    assert png[:8] == PNG_SIGNATURE, "not a PNG"
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def unexpected_errors(tab: ReaderTab, site: PublishedSite) -> list[str]:
    """Console errors, less Chromium's report of the 404 document's own status."""
    missing_page = site.url(NOT_FOUND_PATH)
    return [
        error
        for error in tab.console_errors
        if not (error.endswith(f"({missing_page})") and "status of 404" in error)
    ]


@pytest.mark.parametrize("colour_scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_screenshots_at_phone_and_desktop_width(
    width: int, colour_scheme: str, open_tab: TabOpener, published_site: PublishedSite
) -> None:
    tab = open_tab(width, color_scheme=colour_scheme)
    SCREENSHOT_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    overflowing: dict[str, str] = {}
    for name, (path, status) in shot_pages(published_site).items():
        response = tab.read(published_site.url(path))
        assert response.status == status, path
        suffix = "" if colour_scheme == "light" else f"-{colour_scheme}"
        target = SCREENSHOT_ARTIFACTS / f"{name}-{width}{suffix}.png"
        shot_width, shot_height = png_size(tab.page.screenshot(full_page=True, path=target))
        # A page wider than the viewport gives a wider full-page shot: reported below.
        assert shot_width >= width and shot_height >= VIEWPORT_HEIGHTS[width], target
        overflow, culprits = tab.horizontal_overflow()
        if overflow:
            overflowing[name] = f"{overflow} px too wide: {culprits}"
        if UPDATE_README_SHOTS and name == "post" and colour_scheme == "light":
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            tab.page.screenshot(path=README_SHOTS / f"seed-post-{width}.png")
    assert overflowing == {}
    assert unexpected_errors(tab, published_site) == []


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_the_readme_screenshots_are_committed(width: int) -> None:
    committed = README_SHOTS / f"seed-post-{width}.png"
    assert committed.is_file(), f"{committed}: make it with BLOGPUB_UPDATE_SCREENSHOTS=1"
    assert png_size(committed.read_bytes()) == (width, VIEWPORT_HEIGHTS[width])
