"""Small HTML builders the tag functions share: escaping, Hexo's url_for, htmlTag."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from urllib.parse import quote, unquote, urlsplit

from blogpub.tags.model import TagContext

# Characters Markdown would act on in text that sits between inline HTML tags (":" and
# "@": GFM's autolinks would put a link inside the tag's own link).
_MARKDOWN_ACTIVE = {ord(char): f"&#{ord(char)};" for char in "\\`*_[]~$|:@"}
_TAG_MARKUP = re.compile(r"(<[^<>]*>)")
_TAG_WITH_LINE_BREAK = re.compile(r"<[^<>]*\n[^<>]*>")
_ONE_PARAGRAPH = re.compile(r"\A<p>((?:(?!</?p>)[\s\S])*)</p>\Z")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_URL_ATTRIBUTES = frozenset({"cite", "download", "href", "src", "url"})
_URL_SAFE = "/#?&=:;@+$,!~*'()%-._"
# what quote() leaves as it is, but "%" (which unquote() may change)
_NOTHING_TO_ENCODE = re.compile(f"[A-Za-z0-9_.~{re.escape(_URL_SAFE.replace('%', ''))}-]*")


def attribute(value: str) -> str:
    return html.escape(value, quote=True)


def text(value: str) -> str:
    """Escaped text that Markdown will show as written (no emphasis, links or math)."""
    escaped = html.escape(value, quote=False).translate(_MARKDOWN_ACTIVE)
    return escaped.replace("www.", "www&#46;") if "www." in escaped else escaped


def html_tag(name: str, attributes: Mapping[str, str | bool | None], content: str | None) -> str:
    """hexo-util's htmlTag: attributes in order, ``None`` left out, ``True`` bare, URLs
    encoded, and ``content`` (already HTML) closing the element; ``None`` leaves it open."""
    opening = name
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        if value is True:
            opening += f" {key}"
        else:
            shown = encode_url(value) if key in _URL_ATTRIBUTES else value
            opening += f' {key}="{attribute(shown)}"'
    return f"<{opening}>" if content is None else f"<{opening}>{content}</{name}>"


def encode_url(url: str) -> str:
    """hexo-util's encodeURL: percent-encode what needs it, never twice."""
    if _SCHEME.match(url) is None:
        if _NOTHING_TO_ENCODE.fullmatch(url):
            return url  # what quote(unquote(url)) gives back: the usual asset path
        return quote(unquote(url), safe=_URL_SAFE)
    parts = urlsplit(url)
    if parts.netloc:
        # The WHATWG URL parser Hexo uses gives a bare host the path "/".
        rest = url[len(parts.scheme) + 3 + len(parts.netloc) :] or "/"
        return f"{parts.scheme}://{parts.netloc}{quote(unquote(rest), safe=_URL_SAFE)}"
    return url


def is_external(path: str) -> bool:
    return _SCHEME.match(path) is not None or path.startswith("//")


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
    paragraph = _ONE_PARAGRAPH.match(rendered)
    return paragraph.group(1) if paragraph is not None else rendered


def on_one_line(fragment: str) -> str:
    """The fragment with its line breaks outside tags written ``&#10;`` (the same text,
    a line break inside ``pre`` too), so Markdown takes a block as one HTML block even
    inside a list item, and an inline tag cannot end the paragraph it stands in."""
    stripped = fragment.strip("\n")
    if _TAG_WITH_LINE_BREAK.search(stripped) is None:  # the usual case, in one pass
        return stripped.replace("\n", "&#10;")
    parts = _TAG_MARKUP.split(stripped)
    return "".join(
        part if index % 2 else part.replace("\n", "&#10;") for index, part in enumerate(parts)
    )


def shown_as_text(source: str) -> str:
    """A tag's source as the page should show it: as code (plainly not the tag's output),
    which Markdown and HTML cannot eat."""
    return "<code>" + text(source).replace("{", "&#123;").replace("}", "&#125;") + "</code>"
