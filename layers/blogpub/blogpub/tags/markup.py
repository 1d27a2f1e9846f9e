"""Small HTML builders the tag functions share: escaping, Hexo's url_for, htmlTag."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from urllib.parse import quote, unquote, urlsplit

from blogpub.tags.model import TagContext

# Characters Markdown would act on in text that sits between inline HTML tags.
_MARKDOWN_ACTIVE = {ord(char): f"&#{ord(char)};" for char in "\\`*_[]~$|"}
_LINE_BEFORE_BLANK = re.compile(r"\n(?=[^\S\n]*\n)")
_OUTER_PARAGRAPH = re.compile(r"\A<p>([\s\S]*)</p>\Z")
_URL_SAFE = "/#?&=:;@+$,!~*'()%-._"


def attribute(value: str) -> str:
    return html.escape(value, quote=True)


def text(value: str) -> str:
    """Escaped text that Markdown will show as written (no emphasis, links or math)."""
    return html.escape(value, quote=False).translate(_MARKDOWN_ACTIVE)


def html_tag(name: str, attributes: Mapping[str, str | bool | None], content: str | None) -> str:
    """hexo-util's htmlTag: attributes in order, ``None`` left out, ``True`` bare, and
    ``content`` (already HTML) closing the element; ``None`` content leaves it open."""
    opening = name
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        opening += f" {key}" if value is True else f' {key}="{attribute(value)}"'
    return f"<{opening}>" if content is None else f"<{opening}>{content}</{name}>"


def encode_url(url: str) -> str:
    """hexo-util's encodeURL: percent-encode what needs it, never twice."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        rest = url[len(parts.scheme) + 3 + len(parts.netloc) :]
        return f"{parts.scheme}://{parts.netloc}{quote(unquote(rest), safe=_URL_SAFE)}"
    if parts.scheme:
        return url
    return quote(unquote(url), safe=_URL_SAFE)


def is_external(path: str) -> bool:
    return bool(urlsplit(path).scheme) or path.startswith("//")


def url_for(path: str, context: TagContext) -> str:
    """Hexo's url_for: a site path gets the root and is encoded; URLs and anchors stay."""
    if is_external(path) or path.startswith("#"):
        return encode_url(path)
    return encode_url(context.root.rstrip("/") + "/" + path.lstrip("/"))


def full_url_for(path: str, context: TagContext) -> str:
    """Hexo's full_url_for: the site ``url`` (which already holds any subdirectory)."""
    if is_external(path):
        return encode_url(path)
    return encode_url(context.url.rstrip("/") + "/" + path.lstrip("/"))


def asset_url(name: str, context: TagContext) -> str:
    """A file of the post's asset folder: Hexo serves it below the post's own URL."""
    return url_for(context.post_url.rstrip("/") + "/" + name.lstrip("/"), context)


def markdown_block(source: str, context: TagContext) -> str:
    """Hexo's ``renderSync({text, engine: 'markdown'})`` of a tag's inner content."""
    return context.render_markdown(source).strip()


def markdown_inline(source: str, context: TagContext) -> str:
    """A one-line title as Markdown, without the paragraph Markdown wraps it in."""
    rendered = markdown_block(source, context)
    paragraph = _OUTER_PARAGRAPH.match(rendered)
    return paragraph.group(1) if paragraph is not None else rendered


def without_blank_lines(fragment: str) -> str:
    """The fragment with no blank line, so Markdown takes it as one HTML block; a line
    break that a blank line follows becomes ``&#10;`` (still a line break inside ``pre``)."""
    return _LINE_BEFORE_BLANK.sub("&#10;", fragment.strip("\n"))


def shown_as_text(source: str) -> str:
    """A tag's source as the page should show it: Markdown and HTML cannot eat it."""
    return text(source).replace("{", "&#123;").replace("}", "&#125;")
