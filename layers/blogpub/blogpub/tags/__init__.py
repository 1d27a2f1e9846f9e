"""Hexo tag plugins (``{% name args %}``) without a template engine.

Hexo hands a post body to Nunjucks; here a tokenizer finds the tags (code, ``{% raw %}``
and ``{{ }}`` stay literal), splits their arguments as Nunjucks does, and a registry of
small functions turns each into HTML built from escaped values. Nothing is evaluated;
an unknown tag is shown as text with a warning instead of failing the post. Standard
library only, so importing it costs a cold start nothing."""

from blogpub.tags.expand import PLACEHOLDER_COMMENT, expand_tags
from blogpub.tags.model import (
    ResolvedPost,
    TagArgumentError,
    TagCall,
    TagContext,
    TagFunction,
    TagResult,
    TagWarning,
)
from blogpub.tags.registry import REGISTRY, Pairing, TagSpec
from blogpub.tags.scan import split_args

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
