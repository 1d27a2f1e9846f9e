"""Every post of the shared corpus reads and renders to a well-formed, safe page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from blogpub import urls
from blogpub.reader import read_post
from blogpub.render import HTML, Renderer
from blogpub.settings import Settings, load_settings

from tests.conftest import CorpusBlog, corpus_blog, corpus_post_params

HEXO_BLOG = "titangene__hexo-blog"


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        if tag == "script":
            self.scripts.append(dict(attrs))


def settings_for(blog: CorpusBlog) -> Settings:
    """The Hexo blog's own _config.yml for its posts; Shanghai time for the feed posts."""
    if blog.config:
        return load_settings(blog.config.read_bytes())
    return load_settings(b"timezone: Asia/Shanghai\nurl: https://blog.example.com\n")


@pytest.mark.corpus
@pytest.mark.parametrize(("blog", "path"), corpus_post_params())
def test_corpus_post_renders(blog: CorpusBlog, path: Path, corpus_dir: Path) -> None:
    settings = settings_for(blog)
    post = read_post(path.read_bytes(), blog.source_key(path), settings)
    rendered = Renderer(settings).render_post(post)
    page = rendered.page
    assert page.url == urls.post_url(post, settings)
    assert page.content_type == HTML
    html = page.body.decode("utf-8")
    assert html.startswith("<!DOCTYPE html>")
    parser = Images()
    parser.feed(html)
    # The only script left is our JSON-LD: bodies never bring their own.
    assert [s.get("type") for s in parser.scripts] == ["application/ld+json"]
    if blog.config is None:
        # Importer posts hot-link their images, which only load without a Referer.
        external = [img for img in parser.images if (img.get("src") or "").startswith("http")]
        assert external
        assert all(img.get("referrerpolicy") == "no-referrer" for img in external)


@pytest.mark.corpus
def test_hexo_blog_uses_its_html_permalink(corpus_dir: Path) -> None:
    blog = corpus_blog(HEXO_BLOG)
    settings = settings_for(blog)
    post = read_post((blog.posts_dir / "css-bfc.md").read_bytes(), "_posts/css-bfc.md", settings)
    assert Renderer(settings).render_post(post).page.url == "/article/css-bfc.html"


_CODE = re.compile(r"<(pre|code)\b[^>]*>.*?</\1>", re.DOTALL)


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("blog", "path"),
    [param for param in corpus_post_params() if param.values[0].root.parent.name == "hexo"],
)
def test_hexo_corpus_pages_show_no_raw_tag_outside_code(blog: CorpusBlog, path: Path) -> None:
    """Every tag plugin of the hand-written Hexo blogs is expanded (or, unknown or broken,
    shown as code with a warning): no ``{%`` or ``%}`` is left in the page's text."""
    settings = settings_for(blog)
    rendered = Renderer(settings).render_post(
        read_post(path.read_bytes(), blog.source_key(path), settings)
    )
    outside_code = _CODE.sub("", rendered.page.body.decode("utf-8"))

    assert "{%" not in outside_code and "%}" not in outside_code
    assert "&#123;%" not in outside_code and "%&#125;" not in outside_code
