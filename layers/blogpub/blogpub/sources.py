"""What a key of the source bucket is: the one rule the pipeline and ``blogpub publish`` share.

Hexo's post processor (hexo/lib/plugins/processor/post.ts) is the specification. Below the
posts prefix a file is a post when a renderer is registered for its extension (Hexo looks
the extension up as written, so ``Post.MD`` is not Markdown), when no path component below
the prefix starts with ``_`` or ``.`` (``isHiddenFile``), and when it is not an editor temp
file ending in ``%`` or ``~`` (``isTmpFile``). ``_config.yml`` at the root is the site
configuration; everything else is ignored for now (pages and assets come later).
"""

from __future__ import annotations

from enum import Enum

from blogpub.config import DEFAULT_CONFIG_KEY, DEFAULT_POSTS_PREFIX

# The Markdown extensions hexo-renderer-marked registers that our renderer reads.
POST_EXTENSIONS = frozenset({"md", "markdown"})


class KeyKind(Enum):
    POST = "post"
    CONFIG = "config"
    IGNORED = "ignored"


def classify(
    key: str,
    posts_prefix: str = DEFAULT_POSTS_PREFIX,
    *,
    config_key: str = DEFAULT_CONFIG_KEY,
) -> KeyKind:
    """The kind of a source-bucket key, as Hexo would treat the file at that path."""
    if key == config_key:
        return KeyKind.CONFIG
    if not key.startswith(posts_prefix) or _is_temp_file(key):
        return KeyKind.IGNORED
    below = key[len(posts_prefix) :]
    if _is_hidden(below) or _extension(below) not in POST_EXTENSIONS:
        return KeyKind.IGNORED
    return KeyKind.POST


def is_post_key(key: str, posts_prefix: str = DEFAULT_POSTS_PREFIX) -> bool:
    return classify(key, posts_prefix) is KeyKind.POST


def _is_temp_file(key: str) -> bool:
    return key.endswith(("%", "~"))


def _is_hidden(relative: str) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


def _extension(relative: str) -> str:
    """Node's ``path.extname`` without the dot: a leading dot alone is no extension."""
    name = relative.rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    return extension if dot and stem.strip(".") else ""
