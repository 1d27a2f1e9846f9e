"""Which tags exist, whether each takes a body, and whether its HTML is a block."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from blogpub.tags import hexo, themes
from blogpub.tags.model import TagFunction


class Pairing(Enum):
    """Whether a tag takes a body up to its ``{% end<name> %}``."""

    SINGLE = "single"  # {% name args %}
    PAIRED = "paired"  # {% name args %}…{% endname %} (Hexo's ``ends: true``)
    EITHER = "either"  # paired when an {% endname %} follows (plugins disagree)


@dataclass(frozen=True)
class TagSpec:
    """A registered tag: its function, its pairing, and whether its HTML is a block
    (it then stands on a line of its own, so Markdown leaves it whole)."""

    render: TagFunction
    pairing: Pairing = Pairing.SINGLE
    block: bool = False


REGISTRY: dict[str, TagSpec] = {
    # Hexo 7: hexo/lib/plugins/tag/index.ts (youtube and vimeo moved to hexo-tag-embed).
    "blockquote": TagSpec(hexo.blockquote, Pairing.PAIRED, block=True),
    "quote": TagSpec(hexo.blockquote, Pairing.PAIRED, block=True),
    "codeblock": TagSpec(hexo.codeblock, Pairing.PAIRED, block=True),
    "code": TagSpec(hexo.codeblock, Pairing.PAIRED, block=True),
    "pullquote": TagSpec(hexo.pullquote, Pairing.PAIRED, block=True),
    "img": TagSpec(hexo.img),
    "image": TagSpec(hexo.img),
    "link": TagSpec(hexo.link),
    "a": TagSpec(hexo.link),
    "anchor": TagSpec(hexo.link),
    "iframe": TagSpec(hexo.iframe),
    "youtube": TagSpec(hexo.youtube, block=True),
    "vimeo": TagSpec(hexo.vimeo, block=True),
    "post_link": TagSpec(hexo.post_link),
    "post_path": TagSpec(hexo.post_path),
    "asset_img": TagSpec(hexo.asset_img),
    "asset_image": TagSpec(hexo.asset_img),
    "asset_link": TagSpec(hexo.asset_link),
    "asset_path": TagSpec(hexo.asset_path),
    "url_for": TagSpec(hexo.url_for_tag),
    "full_url_for": TagSpec(hexo.full_url_for_tag),
    # NexT (scripts/tags/index.js), with Butterfly's and Fluid's names for the same things.
    "note": TagSpec(themes.note, Pairing.PAIRED, block=True),
    "subnote": TagSpec(themes.note, Pairing.PAIRED, block=True),
    "tabs": TagSpec(themes.tabs, Pairing.PAIRED, block=True),
    "subtabs": TagSpec(themes.tabs, Pairing.PAIRED, block=True),
    "subsubtabs": TagSpec(themes.tabs, Pairing.PAIRED, block=True),
    "label": TagSpec(themes.label),
    "button": TagSpec(themes.button),
    "btn": TagSpec(themes.button),
    "spoiler": TagSpec(themes.spoiler, Pairing.EITHER, block=True),
    "sliding_spoiler": TagSpec(themes.spoiler, Pairing.PAIRED, block=True),
    "hideToggle": TagSpec(themes.hide_toggle, Pairing.PAIRED, block=True),
    "hideBlock": TagSpec(themes.hide_toggle, Pairing.PAIRED, block=True),
    "centerquote": TagSpec(themes.centerquote, Pairing.PAIRED, block=True),
    "cq": TagSpec(themes.centerquote, Pairing.PAIRED, block=True),
    "grouppicture": TagSpec(themes.grouppicture, Pairing.PAIRED, block=True),
    "gp": TagSpec(themes.grouppicture, Pairing.PAIRED, block=True),
    "mermaid": TagSpec(themes.mermaid, Pairing.PAIRED, block=True),
    "gist": TagSpec(themes.gist),
    "meting": TagSpec(themes.meting),
}
