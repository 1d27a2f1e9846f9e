"""What a key of the source bucket is: the one rule the pipeline and ``blogpub publish`` share.

The bucket mirrors Hexo's ``source/`` folder, and Hexo 7/8's processors are the
specification (hexo/lib/plugins/processor/post.ts, asset.ts and common.ts):

- below the posts prefix (``_posts/``) a file is a post when a renderer is registered for
  its extension (looked up as written, so ``Post.MD`` is not Markdown) and no path
  component below the prefix starts with ``_`` or ``.``; with ``post_asset_folder`` on,
  only ``.md`` files (the extension of Hexo's ``new_post_name``) are posts and every other
  file there is an asset of the post whose folder holds it;
- ``_drafts/`` and every other path with a component starting with ``_`` or ``.`` is
  ignored (``isHiddenFile``), as are editor temp files ending in ``%`` or ``~``;
- any other Markdown or HTML file is a page (``about/index.md`` -> ``/about/``);
- every other file is an asset, copied to the site as it is;
- ``_config.yml`` at the root is the site configuration.

Paths and URLs of pages and assets are in ``urls``; content types and cache lifetimes of
assets are in ``assets``.
"""

from __future__ import annotations

from enum import Enum

from blogpub.config import DEFAULT_CONFIG_KEY, DEFAULT_POSTS_PREFIX

# The Markdown extensions hexo-renderer-marked registers that our renderer reads.
POST_EXTENSIONS = frozenset({"md", "markdown"})
# With post_asset_folder, Hexo keeps only new_post_name's extension (":title.md") as posts.
ASSET_FOLDER_POST_EXTENSIONS = frozenset({"md"})
# Hexo renders these outside _posts/ as pages (hexo-renderer-marked's and its own html/htm).
PAGE_EXTENSIONS = frozenset({"md", "markdown", "html", "htm"})


class KeyKind(Enum):
    POST = "post"
    PAGE = "page"
    ASSET = "asset"
    POST_ASSET = "post_asset"  # a file of a post's asset folder (post_asset_folder: true)
    CONFIG = "config"
    IGNORED = "ignored"

    @property
    def published(self) -> bool:
        """Whether keys of this kind become something on the site."""
        return self in (KeyKind.POST, KeyKind.PAGE, KeyKind.ASSET, KeyKind.POST_ASSET)


def classify(
    key: str,
    posts_prefix: str = DEFAULT_POSTS_PREFIX,
    *,
    config_key: str = DEFAULT_CONFIG_KEY,
    post_asset_folder: bool = False,
) -> KeyKind:
    """The kind of a source-bucket key, as Hexo would treat the file at that path."""
    if key == config_key:
        return KeyKind.CONFIG
    if not key or key.endswith("/") or _is_temp_file(key):
        return KeyKind.IGNORED
    if key.startswith(posts_prefix):
        return _classify_below_posts(key[len(posts_prefix) :], post_asset_folder)
    if _is_hidden(key):
        return KeyKind.IGNORED
    return KeyKind.PAGE if _extension(key) in PAGE_EXTENSIONS else KeyKind.ASSET


def _classify_below_posts(below: str, post_asset_folder: bool) -> KeyKind:
    if _is_hidden(below):
        return KeyKind.IGNORED
    extensions = ASSET_FOLDER_POST_EXTENSIONS if post_asset_folder else POST_EXTENSIONS
    if _extension(below) in extensions:
        return KeyKind.POST
    return KeyKind.POST_ASSET if post_asset_folder else KeyKind.IGNORED


def is_post_key(key: str, posts_prefix: str = DEFAULT_POSTS_PREFIX) -> bool:
    return classify(key, posts_prefix) is KeyKind.POST


def asset_folder_posts(key: str, posts_prefix: str = DEFAULT_POSTS_PREFIX) -> list[str]:
    """The post keys whose asset folder may hold ``key``, nearest folder first.

    ``_posts/a/img/x.png`` belongs to ``_posts/a/img.md`` if there is one, else to
    ``_posts/a.md`` (Hexo lists a post's folder recursively; the nearest post wins).
    """
    below = key[len(posts_prefix) :] if key.startswith(posts_prefix) else ""
    parts = below.split("/")[:-1]
    folders = ["/".join(parts[:depth]) for depth in range(len(parts), 0, -1)]
    return [f"{posts_prefix}{folder}.md" for folder in folders]


def asset_folder_of(post_key: str) -> str:
    """The prefix of a post's asset folder: its key without the extension, then ``/``."""
    stem, dot, _ = post_key.rpartition(".")
    return (stem if dot else post_key) + "/"


def _is_temp_file(key: str) -> bool:
    return key.endswith(("%", "~"))


def _is_hidden(relative: str) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


def _extension(relative: str) -> str:
    """Node's ``path.extname`` without the dot: a leading dot alone is no extension."""
    name = relative.rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    return extension if dot and stem.strip(".") else ""
