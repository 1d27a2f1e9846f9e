"""What a body's tags point at, found without expanding them: the posts its ``post_link``/
``post_path`` tags name and the asset folder files its ``asset_*`` tags may name.

The publisher needs both before rendering (to read the table and list the asset folder
once), so they come from the tokenizer alone: the same protected parts (code, ``{% raw %}``)
hide the same tags as in ``expand_tags``, and a paired tag's inner tags count, as they are
expanded there too."""

from __future__ import annotations

from collections.abc import Iterator

from blogpub.tags.hexo import asset_candidates, linked_target
from blogpub.tags.scan import Protected, protect, split_args, tag_tokens

LINK_TAGS = frozenset({"post_link", "post_path"})
ASSET_TAGS = frozenset({"asset_img", "asset_image", "asset_link", "asset_path"})


def linked_targets(body: str) -> tuple[str, ...]:
    """The ``post_link``/``post_path`` targets as written, each once, in body order
    (``TagResult.linked_posts`` of the expanded body)."""
    targets = (linked_target(name, args) for name, args in _calls(body, LINK_TAGS))
    return tuple(dict.fromkeys(target for target in targets if target is not None))


def asset_references(body: str) -> tuple[str, ...]:
    """Every name an ``asset_*`` tag may resolve in the post's asset folder, each once."""
    names = (name for tag, args in _calls(body, ASSET_TAGS) for name in asset_candidates(tag, args))
    return tuple(dict.fromkeys(names))


def _calls(body: str, names: frozenset[str]) -> Iterator[tuple[str, list[str]]]:
    """Each tag named in ``names`` outside the protected parts, with its split arguments."""
    if not any(name in body for name in names):
        return
    protected = Protected(body)
    for token in tag_tokens(protect(body, protected)):
        if token.name in names:
            yield token.name, split_args(protected.restore(token.arguments))
