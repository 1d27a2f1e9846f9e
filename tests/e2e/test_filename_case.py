"""`filename_case: 1` end to end (issue 14): a small Hexo source folder of our own through
`blogpub local run`, and a live site whose _config.yml switches to it.

The expected URLs are what `hexo generate` (Hexo 7.3, hexo-util 3.3.0) makes of the same
folder: category and tag slugs lowercased, so "Front End" and "front end" are one listing,
while a post's `:title` keeps its file's case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import local_stack, run_blogpub, site_objects
from tests.e2e.test_source_folder import broken_references, publish_folder

pytestmark = pytest.mark.e2e

CONFIG = """title: Case Blog
url: https://case.example
permalink: :category/:title/
filename_case: {case}
timezone: UTC
"""
POSTS = {
    "Vue-Intro.md": """---
title: Vue Intro
date: 2024-03-01 09:00:00
categories:
  - [Front End, Vue]
tags:
  - Vue.js
  - IT 鐵人賽
---
All posts of the [series](/tags/it-鐵人賽/) and the [front end](/categories/front-end/).
See {% post_link CSS-Tips %}.
""",
    "CSS-Tips.md": """---
title: CSS Tips
date: 2024-03-02 09:00:00
categories:
  - front end
tags:
  - vue.js
  - CSS
---
Some tips; back to {% post_link Vue-Intro 'the intro' %}.
""",
}
# `hexo generate` of this folder with filename_case: 1 (scripts dumping posts/categories/tags).
HEXO_POSTS = {"/front-end/vue/Vue-Intro/", "/front-end/CSS-Tips/"}
HEXO_CATEGORIES = {"/categories/front-end/", "/categories/front-end/vue/"}
HEXO_TAGS = {"/tags/vue-js/", "/tags/css/", "/tags/it-鐵人賽/"}
LISTING = re.compile(r"^/(?:categories|tags)/[^/]+(?:/[^/]+)*/$")
LISTING_DIRS = ("/categories/", "/tags/", "/archives/categories/", "/archives/tags/")
MONTH_OR_FEED = re.compile(r"/\d{4}/\d{2}/$|\.xml$")


def write_blog(folder: Path, case: int, posts_text: dict[str, str] = POSTS) -> Path:
    """The blog as a Hexo source/ folder: _config.yml beside _posts/."""
    posts = folder / "_posts"
    posts.mkdir(parents=True, exist_ok=True)
    (folder / "_config.yml").write_text(CONFIG.format(case=case), encoding="utf-8")
    for name, text in posts_text.items():
        (posts / name).write_text(text, encoding="utf-8")
    return folder


def listing_pages(paths: list[str] | set[str], directory: str) -> set[str]:
    return {
        path
        for path in paths
        if path.startswith(f"/{directory}/") and LISTING.match(path)
        if not MONTH_OR_FEED.search(path)
    }


def test_local_run_of_a_filename_case_blog_makes_hexos_urls(tmp_path: Path) -> None:
    blog = write_blog(tmp_path / "source", 1)
    site, report_path = tmp_path / "site", tmp_path / "report.json"
    done = run_blogpub(
        ["local", "run", str(blog), "--out", str(site), "--report", str(report_path)], REPO
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))

    assert {post["url"] for post in report["posts"]} == HEXO_POSTS
    assert all(post["status"] == "published" for post in report["posts"])
    written = report["pages_written"]
    assert listing_pages(written, "categories") == HEXO_CATEGORIES
    assert listing_pages(written, "tags") == HEXO_TAGS
    # one listing for "Front End" and "front end", and for "Vue.js" and "vue.js"
    assert {"/categories/front-end/atom.xml", "/categories/front-end/vue/atom.xml"} <= set(written)
    assert not [p for p in written if p.startswith(LISTING_DIRS) and p != p.lower()]
    front_end = (site / "categories" / "front-end" / "index.html").read_text(encoding="utf-8")
    assert "/front-end/vue/Vue-Intro/" in front_end and "/front-end/CSS-Tips/" in front_end
    vue = (site / "tags" / "vue-js" / "index.html").read_text(encoding="utf-8")
    assert "/front-end/vue/Vue-Intro/" in vue and "/front-end/CSS-Tips/" in vue

    intro = (site / "front-end" / "vue" / "Vue-Intro" / "index.html").read_text(encoding="utf-8")
    hrefs = {unquote(href) for href in re.findall(r'href="([^"]+)"', intro)}
    assert HEXO_TAGS - {"/tags/css/"} <= hrefs  # the post's own tag links
    assert hrefs >= HEXO_CATEGORIES
    assert "/front-end/CSS-Tips/" in hrefs  # post_link
    objects = {
        file.relative_to(site).as_posix(): file.read_bytes()
        for file in site.rglob("*")
        if file.is_file()
    }
    # the hand-written links to /tags/it-鐵人賽/ and /categories/front-end/ included
    assert broken_references(objects) == []
    sitemaps = b"".join(body for key, body in objects.items() if key.startswith("sitemaps/"))
    assert b"/front-end/vue/Vue-Intro/" in sitemaps and b"/front-end/CSS-Tips/" in sitemaps


# One spelling per listing: a listing several spellings share shows the name of the post
# indexed last (README, "filename_case"), which a byte comparison would catch.
SAME_SPELLING = {
    name: text.replace("front end", "Front End").replace("vue.js", "Vue.js")
    for name, text in POSTS.items()
}


def test_switching_filename_case_on_moves_every_listing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("case-blog")
    with local_stack(tmp_path_factory, "case-switch") as stack:
        publish_folder(stack, write_blog(folder, 0, SAME_SPELLING))
        before = set(site_objects(stack))
        assert {"categories/Front-End/index.html", "tags/Vue-js/index.html"} <= before
        assert "Front-End/Vue/Vue-Intro/index.html" in before  # :category follows the case
        publish_folder(stack, write_blog(folder, 1, SAME_SPELLING))
        switched = site_objects(stack)
    with local_stack(tmp_path_factory, "case-clean") as clean:
        fresh_folder = tmp_path_factory.mktemp("case-clean-blog")
        publish_folder(clean, write_blog(fresh_folder, 1, SAME_SPELLING))
        fresh = site_objects(clean)

    keys = set(switched)
    assert {f"{path.lstrip('/')}index.html" for path in HEXO_CATEGORIES | HEXO_TAGS} <= keys
    assert not [
        key for key in keys if key.startswith(("categories/", "tags/")) and key != key.lower()
    ]
    assert broken_references(switched) == []
    assert keys == set(fresh)
    assert switched == fresh
