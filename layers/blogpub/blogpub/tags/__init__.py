"""Hexo tag plugins (``{% name args %}``) without a template engine.

Hexo hands a post body to Nunjucks; here a tokenizer finds the tags (code, ``{% raw %}``
and ``{{ }}`` stay literal), splits their arguments as Nunjucks does, and a registry of
small functions turns each into HTML built from escaped values. Nothing is evaluated;
an unknown tag is shown as text with a warning instead of failing the post. Standard
library only, so importing it costs a cold start nothing; the tag functions themselves
load on first use (a body without ``{`` never needs them)."""

from typing import TYPE_CHECKING, Any

from blogpub.tags.model import (
    PLACEHOLDER_COMMENT,
    ResolvedPost,
    TagArgumentError,
    TagCall,
    TagContext,
    TagFunction,
    TagResult,
    TagWarning,
)

if TYPE_CHECKING:
    from blogpub.tags.expand import expand_tags
    from blogpub.tags.registry import REGISTRY, Pairing, TagSpec
    from blogpub.tags.scan import split_args

# The names loaded on first use, each from its module.
_LAZY = {
    "expand_tags": "blogpub.tags.expand",
    "REGISTRY": "blogpub.tags.registry",
    "Pairing": "blogpub.tags.registry",
    "TagSpec": "blogpub.tags.registry",
    "split_args": "blogpub.tags.scan",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "PLACEHOLDER_COMMENT",
    "REGISTRY",
    "Pairing",
    "ResolvedPost",
    "TagArgumentError",
    "TagCall",
    "TagContext",
    "TagFunction",
    "TagResult",
    "TagSpec",
    "TagWarning",
    "expand_tags",
    "split_args",
]
