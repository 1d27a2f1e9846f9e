"""Every post of the shared corpus reads and renders, and its HTML is safe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from blogpub.markup import render_body
from blogpub.reader import read_post
from blogpub.settings import Settings, load_settings

from tests.conftest import CorpusBlog, corpus_blog, corpus_blogs, corpus_post_params

pytestmark = pytest.mark.corpus

# Sanitised output escapes every "<" in text, so a "<" here starts a real tag.
UNSAFE = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|meta|link|base)\b"
    r"|<[a-z][^>]*(\son[a-z]+\s*=|javascript:|\sstyle\s*=)",
    re.IGNORECASE,
)


def site_settings(blog: CorpusBlog) -> Settings:
    """The _config.yml of the blog the post comes from, or the defaults."""
    return load_settings(blog.config.read_bytes() if blog.config else None)


@pytest.mark.parametrize(("blog", "post_file"), corpus_post_params())
def test_corpus_post_reads_and_renders_safely(
    corpus_dir: Path, blog: CorpusBlog, post_file: Path
) -> None:
    settings = site_settings(blog)

    post = read_post(post_file.read_bytes(), blog.source_key(post_file), settings)
    body_html, excerpt_html = render_body(post.body, post.excerpt, site_url=settings.url)

    assert post.title
    assert post.date.tzinfo is not None
    if b"\ncategor" in post_file.read_bytes().split(b"\n---", 1)[0]:
        assert post.categories
    assert body_html.strip()
    for rendered in (body_html, excerpt_html):
        assert UNSAFE.search(rendered) is None
        assert all('loading="lazy"' in image for image in re.findall(r"<img\b[^>]*>", rendered))
    if "<!-- more -->" in post.body:
        assert excerpt_html and len(excerpt_html) < len(body_html)


def test_the_corpus_is_all_there(corpus_dir: Path) -> None:
    """Counted per blog as Hexo counts posts: the whole-``source/`` blog's drafts
    (``_drafts/``) and pages (``about/index.md``-style files) are not posts."""
    counts = {blog.name: len(blog.posts()) for blog in corpus_blogs()}

    assert counts == {
        "seed": 1,
        "feed": 20,
        "titangene__hexo-blog": 89,
        "jasonren0403__blog-of-jason": 67,
    }


def test_a_source_folder_blog_has_pages_and_drafts_that_are_not_posts(corpus_dir: Path) -> None:
    blog = corpus_blog("jasonren0403__blog-of-jason")
    posts = set(blog.posts())
    source = blog.root / "source"

    pages = [p for p in source.rglob("index.md") if "_posts" not in p.parts]

    assert pages
    assert not posts & set(pages)
    assert not [p for p in posts if "_drafts" in p.parts]
    assert all(p.is_relative_to(source / "_posts") for p in posts)


@pytest.mark.parametrize(
    ("blog_name", "timezone", "hours"),
    [
        ("titangene__hexo-blog", "Asia/Taipei", 8),
        ("jasonren0403__blog-of-jason", "Asia/Shanghai", 8),
    ],
)
def test_hexo_blog_dates_are_in_its_timezone(
    corpus_dir: Path, blog_name: str, timezone: str, hours: int
) -> None:
    blog = corpus_blog(blog_name)
    hexo_post = blog.posts()[0]
    settings = site_settings(blog)

    post = read_post(hexo_post.read_bytes(), blog.source_key(hexo_post), settings)

    assert settings.timezone == timezone
    assert post.date.utcoffset() is not None
    assert post.date.utcoffset().total_seconds() == hours * 3600  # type: ignore[union-attr]
