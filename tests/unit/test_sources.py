"""The source-key classifier agrees with Hexo's post processor."""

from __future__ import annotations

from pathlib import Path

import pytest
from blogpub.sources import KeyKind, classify, is_post_key

from tests.conftest import corpus_blog

# Hexo 8.1.2's post processor (``processor/post`` ``pattern.match`` after ``hexo.init()``, with
# hexo-renderer-marked 7.0.1's extensions registered): "post" where it returns a renderable
# file, "asset" for a non-renderable one, "none" where it does not match at all.
HEXO_POST_PROCESSOR = [
    ("_posts/a.md", "post"),
    ("_posts/a/b.markdown", "post"),
    ("_posts/x_y.md", "post"),
    ("_posts/a.b.md", "post"),
    ("_posts/中文/标题.md", "post"),
    ("_posts/a b.md", "post"),
    ("_posts/Post.MD", "asset"),
    ("_posts/a.Md", "asset"),
    ("_posts/a.MARKDOWN", "asset"),
    ("_posts/_x.md", "none"),
    ("_posts/.x.md", "none"),
    ("_posts/.a/b.md", "none"),
    ("_posts/a/_b/c.md", "none"),
    ("_posts/a/.b/c.md", "none"),
    ("_posts/a.md~", "none"),
    ("_posts/a.md%", "none"),
    ("_posts/a.txt", "asset"),
    ("_posts/img.png", "asset"),
    ("_posts/a.md/x", "asset"),
    ("_posts/a.", "asset"),
    ("_posts/md", "asset"),
    ("_posts/a.md.bak", "asset"),
]

# Hexo renders these too (html/yml renderers of Hexo itself, hexo-renderer-marked's other
# Markdown extensions); our renderer reads .md and .markdown only, so they stay ignored.
RENDERABLE_IN_HEXO_ONLY = ["_posts/x.html", "_posts/a.mkd", "_posts/a.yml"]


@pytest.mark.parametrize(("path", "hexo"), HEXO_POST_PROCESSOR)
def test_a_key_is_a_post_exactly_when_hexo_renders_it_as_one(path: str, hexo: str) -> None:
    expected = KeyKind.POST if hexo == "post" else KeyKind.IGNORED
    assert classify(path, "_posts/") is expected


@pytest.mark.parametrize("path", RENDERABLE_IN_HEXO_ONLY)
def test_files_only_hexo_can_render_are_ignored(path: str) -> None:
    assert classify(path, "_posts/") is KeyKind.IGNORED


def test_the_default_prefix_is_posts() -> None:
    assert classify("posts/a.md") is KeyKind.POST
    assert classify("_posts/a.md") is KeyKind.IGNORED
    assert classify("posts/_drafts/a.md") is KeyKind.IGNORED


def test_the_root_config_is_config_and_nothing_else_is() -> None:
    assert classify("_config.yml", "posts/") is KeyKind.CONFIG
    assert classify("posts/_config.yml", "posts/") is KeyKind.IGNORED
    assert classify("theme/_config.yml", "posts/") is KeyKind.IGNORED
    assert classify("site.yml", "posts/", config_key="site.yml") is KeyKind.CONFIG


def test_keys_outside_the_prefix_and_folder_markers_are_ignored() -> None:
    assert classify("about/index.md", "posts/") is KeyKind.IGNORED
    assert classify("posts/", "posts/") is KeyKind.IGNORED
    assert classify("posts/a/", "posts/") is KeyKind.IGNORED
    assert classify("postsx.md", "posts/") is KeyKind.IGNORED


def test_is_post_key_is_classify_saying_post() -> None:
    assert is_post_key("posts/a.md", "posts/")
    assert not is_post_key("posts/Post.MD", "posts/")
    assert not is_post_key("_config.yml", "posts/")


@pytest.mark.corpus
def test_the_classifier_picks_the_posts_hexo_picks_in_a_real_blog(corpus_dir: Path) -> None:
    blog = corpus_blog("jasonren0403__blog-of-jason")
    assert blog.posts_dir == corpus_dir / "hexo" / blog.name / "source" / "_posts"
    every_file = [path for path in blog.posts_dir.rglob("*") if path.is_file()]

    picked = sorted(path for path in every_file if classify(blog.source_key(path)) is KeyKind.POST)

    assert picked == blog.posts()
    assert len(picked) == 67
    assert len(every_file) > len(picked)  # images and .gitkeep files were there to refuse
