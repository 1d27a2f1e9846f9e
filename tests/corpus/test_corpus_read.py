"""Every post of the shared corpus reads and renders, and its HTML is safe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from blogpub.markup import render_body
from blogpub.reader import read_post
from blogpub.settings import Settings, load_settings

from tests.conftest import SHARED_CORPUS, corpus_posts

pytestmark = pytest.mark.corpus

# Sanitised output escapes every "<" in text, so a "<" here starts a real tag.
UNSAFE = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|meta|link|base)\b"
    r"|<[a-z][^>]*(\son[a-z]+\s*=|javascript:|\sstyle\s*=)",
    re.IGNORECASE,
)


def site_settings(post_file: Path) -> Settings:
    """The _config.yml of the blog the post comes from, or the defaults."""
    config = next(
        (
            folder / "_config.yml"
            for folder in post_file.parents
            if (folder / "_config.yml").is_file()
        ),
        None,
    )
    return load_settings(config.read_bytes() if config else None)


@pytest.mark.parametrize(
    "post_file", corpus_posts(), ids=lambda path: str(path.relative_to(SHARED_CORPUS))
)
def test_corpus_post_reads_and_renders_safely(corpus_dir: Path, post_file: Path) -> None:
    settings = site_settings(post_file)
    key = "posts/" + post_file.relative_to(corpus_dir).as_posix()

    post = read_post(post_file.read_bytes(), key, settings)
    body_html, excerpt_html = render_body(post.body, post.excerpt, site_url=settings.url)

    assert post.title
    assert post.date.tzinfo is not None
    assert post.categories
    assert body_html.strip()
    for rendered in (body_html, excerpt_html):
        assert UNSAFE.search(rendered) is None
        assert all('loading="lazy"' in image for image in re.findall(r"<img\b[^>]*>", rendered))
    if "<!-- more -->" in post.body:
        assert excerpt_html and len(excerpt_html) < len(body_html)


def test_the_corpus_is_all_there(corpus_dir: Path) -> None:
    posts = corpus_posts()

    assert len([p for p in posts if "feed" in p.parts]) == 20
    assert len([p for p in posts if "hexo" in p.parts]) == 89
    assert len([p for p in posts if "seed" in p.parts]) == 1


def test_hexo_blog_dates_are_in_its_timezone(corpus_dir: Path) -> None:
    hexo_post = next(p for p in corpus_posts() if "hexo" in p.parts)
    settings = site_settings(hexo_post)

    post = read_post(hexo_post.read_bytes(), "posts/" + hexo_post.name, settings)

    assert settings.timezone == "Asia/Taipei"
    assert post.date.utcoffset() is not None
    assert post.date.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
