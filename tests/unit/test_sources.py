"""The source-key classifier agrees with Hexo's post processor."""

from __future__ import annotations

from pathlib import Path

import pytest
from blogpub.sources import KeyKind, asset_folder_of, asset_folder_posts, classify, is_post_key

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


@pytest.mark.parametrize(("path", "hexo"), HEXO_POST_PROCESSOR)
def test_with_post_asset_folder_every_other_file_below_posts_is_a_post_asset(
    path: str, hexo: str
) -> None:
    # Hexo keeps only new_post_name's extension (.md) as posts; the rest are PostAssets.
    if hexo == "none":
        expected = KeyKind.IGNORED
    elif hexo == "post" and path.endswith(".md"):
        expected = KeyKind.POST
    else:
        expected = KeyKind.POST_ASSET
    assert classify(path, "_posts/", post_asset_folder=True) is expected


@pytest.mark.parametrize("path", RENDERABLE_IN_HEXO_ONLY)
def test_files_only_hexo_can_render_are_ignored(path: str) -> None:
    assert classify(path, "_posts/") is KeyKind.IGNORED


def test_the_default_prefix_is_hexo_s_posts_folder() -> None:
    assert classify("_posts/a.md") is KeyKind.POST
    assert classify("posts/a.md") is KeyKind.PAGE
    assert classify("_posts/_drafts/a.md") is KeyKind.IGNORED


# Hexo 8.1.2's asset processor (processor/asset.ts + common.ts isExcludedFile): outside
# _posts/, a renderable file is a Page, any other an Asset, a hidden or temp file nothing.
HEXO_SOURCE_FOLDER = [
    ("about/index.md", KeyKind.PAGE),
    ("about.md", KeyKind.PAGE),
    ("notes/x.markdown", KeyKind.PAGE),
    ("google123.html", KeyKind.PAGE),
    ("old/page.htm", KeyKind.PAGE),
    ("中文/页面.md", KeyKind.PAGE),
    ("images/a.png", KeyKind.ASSET),
    ("images/sub dir/b c.JPG", KeyKind.ASSET),
    ("CNAME", KeyKind.ASSET),
    ("favicon.ico", KeyKind.ASSET),
    ("About.MD", KeyKind.ASSET),  # the extension is looked up as written
    ("files/report.pdf", KeyKind.ASSET),
    ("posts/a.md", KeyKind.PAGE),  # only the posts prefix holds posts
    ("_drafts/a.md", KeyKind.IGNORED),
    ("_drafts/img.png", KeyKind.IGNORED),
    ("_data/menu.yml", KeyKind.IGNORED),
    ("_x.md", KeyKind.IGNORED),
    (".well-known/x", KeyKind.IGNORED),
    ("images/.gitkeep", KeyKind.IGNORED),
    ("a/_partial.html", KeyKind.IGNORED),
    ("about/index.md~", KeyKind.IGNORED),
    ("images/a.png%", KeyKind.IGNORED),
    ("images/", KeyKind.IGNORED),
    ("_posts/", KeyKind.IGNORED),
]


@pytest.mark.parametrize(("path", "kind"), HEXO_SOURCE_FOLDER)
def test_outside_the_posts_folder_keys_are_pages_assets_or_ignored_as_in_hexo(
    path: str, kind: KeyKind
) -> None:
    assert classify(path, "_posts/") is kind
    assert classify(path, "_posts/", post_asset_folder=True) is kind


def test_the_root_config_is_config_and_nothing_else_is() -> None:
    assert classify("_config.yml") is KeyKind.CONFIG
    assert classify("_posts/_config.yml") is KeyKind.IGNORED
    assert classify("theme/_config.yml") is KeyKind.IGNORED
    assert classify("site.yml", config_key="site.yml") is KeyKind.CONFIG


def test_only_posts_pages_and_assets_are_published_kinds() -> None:
    published = {kind for kind in KeyKind if kind.published}
    assert published == {KeyKind.POST, KeyKind.PAGE, KeyKind.ASSET, KeyKind.POST_ASSET}


def test_is_post_key_is_classify_saying_post() -> None:
    assert is_post_key("_posts/a.md")
    assert not is_post_key("_posts/Post.MD")
    assert not is_post_key("_config.yml")
    assert not is_post_key("about/index.md")


def test_a_post_asset_belongs_to_the_nearest_post_folder_first() -> None:
    assert asset_folder_posts("_posts/a/x.png") == ["_posts/a.md"]
    assert asset_folder_posts("_posts/a/img/x.png") == ["_posts/a/img.md", "_posts/a.md"]
    assert asset_folder_posts("_posts/x.png") == []
    assert asset_folder_of("_posts/a/b.md") == "_posts/a/b/"


@pytest.mark.corpus
def test_the_classifier_picks_the_posts_hexo_picks_in_a_real_blog(corpus_dir: Path) -> None:
    blog = corpus_blog("jasonren0403__blog-of-jason")
    assert blog.posts_dir == corpus_dir / "hexo" / blog.name / "source" / "_posts"
    every_file = [path for path in blog.posts_dir.rglob("*") if path.is_file()]

    picked = sorted(
        path
        for path in every_file
        if classify(blog.source_key(path), post_asset_folder=True) is KeyKind.POST
    )

    assert picked == blog.posts()
    assert len(picked) == 67
    assert len(every_file) > len(picked)  # images and .gitkeep files were there to refuse
