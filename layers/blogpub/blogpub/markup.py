"""A post body (Markdown with raw HTML) -> safe HTML, plus its excerpt.

cmark-gfm renders the Markdown with raw HTML allowed; nh3 then sanitises everything with
the one allow-list below (``sanitize``). The body is never evaluated as a template:
``{{ x }}`` and ``{% x %}`` come out as text.

Decisions, each with its reason:

- **Feed bodies.** A body that is one ``<div>...</div>`` around everything is what RSS
  importers write; it is taken as HTML, not Markdown. Through Markdown its indented lines
  after a blank line would turn into code blocks, which is never what the feed meant.
- **Excerpt.** A front-matter ``excerpt`` wins (as in Hexo), rendered as Markdown; else the
  part before ``<!-- more -->``; else a plain-text summary of the first
  ``SUMMARY_CHARACTERS`` characters, escaped, in one ``<p>``: listings then stay short
  and never cut an element in half.
- **Allowed.** Text structure, links (http, https, mailto, tel, relative), images (plus
  ``data:image/*`` in ``img src``: importers inline small images that way and an image
  cannot run script), ``referrerpolicy`` (hot-linked images need ``no-referrer``),
  ``alt``/``title``/``width``/``height``/``srcset``, ``id`` on headings only (anchors;
  ids elsewhere could clobber the theme's DOM names), ``class`` only for syntax
  highlighting (``hljs*``, ``language-*`` on pre/code/span: a class could otherwise
  borrow the theme's look, e.g. to fake its navigation), task-list checkboxes (forced
  to ``type=checkbox disabled``).
- **Removed with their content.** script, style, iframe, object, embed, template, svg,
  math, form controls that hold text. No ``style`` attribute, no ``on*`` handler.
- **Images.** Every ``img`` gets ``loading="lazy"``. Lazy-loading attributes importers
  copy (``data-src``, ``data-original``, ``data-actualsrc``, ``data-lazy-src``) become
  the ``src`` when the ``src`` is missing or a placeholder; a real ``src`` is kept.
- **Links.** Absolute http(s) links to another host get ``rel="noopener noreferrer"``;
  ``nofollow``/``ugc``/``sponsored`` from the source are kept.
- **Code.** Importers unescape JSX and Vue inside ``<pre>``/``<code>``; every ``<`` there
  that does not start a highlighter tag (span, br, ...) is escaped, so ``<Suspense>`` and
  ``<common-checkbox :checked=...>`` show as code instead of vanishing as unknown tags.
- **Headings** get ids as hexo-renderer-marked gives them: hexo-util's ``slugize`` of the
  heading text (``urls.slugize``, case kept), repeats suffixed ``-1``, ``-2``; ids the
  source already has are kept.
"""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from blogpub.errors import TooComplexError, TooDeepError
from blogpub.urls import slugize, url_scheme

SUMMARY_CHARACTERS = 200
# cmark and nh3 slow down steeply with nesting (32k quotes take seconds, 100k minutes).
MAX_NESTING_DEPTH = 256
# cmark builds a node per delimiter: 1 MiB of "[" or table pipes takes 270-550 MB and seconds
# (bench/pathological.py). Hand-written posts use a few thousand.
MAX_INLINE_MARKERS = 200_000
MORE_ANCHOR = '<span id="more"></span>'

_MORE_MARKER = re.compile(r"<!--\s*more\s*-->", re.IGNORECASE)
_WRAPPED_IN_DIV = re.compile(r"\A\s*<div\b[^>]*>.*</div>\s*\Z", re.IGNORECASE | re.DOTALL)

_CMARK_EXTENSIONS = ("table", "strikethrough", "autolink", "tasklist")

_ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption",
        "center", "cite", "code", "col", "colgroup", "data", "dd", "del", "details", "dfn",
        "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hgroup", "hr", "i", "img", "input", "ins", "kbd", "li", "mark",
        "nav", "ol", "p", "picture", "pre", "q", "rp", "rt", "rtc", "ruby", "s", "samp",
        "section", "small", "span", "strike", "strong", "sub", "summary", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
    }
)  # fmt: skip
_DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "object", "embed", "applet", "noscript", "template",
        "textarea", "select", "title", "xmp", "noembed", "noframes", "frameset", "frame",
        "svg", "math", "audio", "video",
    }
)  # fmt: skip
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_TABLE_CELL = {"align", "colspan", "rowspan", "headers", "scope", "valign"}
_ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"title", "lang", "dir"},
    "a": {"href", "hreflang", "rel"},
    "img": {"src", "alt", "width", "height", "srcset", "sizes", "align"},
    "code": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "input": {"checked"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "td": _TABLE_CELL,
    "th": _TABLE_CELL,
    "col": {"span", "align", "width"},
    "colgroup": {"span", "align", "width"},
    "table": {"align", "summary"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "data": {"value"},
    "details": {"open"},
    "abbr": {"title"},
    **{heading: {"id"} for heading in _HEADINGS},
}
_REFERRER_POLICIES = {
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
}
_RESTRICTED_VALUES = {
    "span": {"id": {"more"}},  # the excerpt anchor, Hexo's <span id="more">
    "a": {"target": {"_blank"}, "referrerpolicy": _REFERRER_POLICIES},
    "img": {"referrerpolicy": _REFERRER_POLICIES},
}
# One forced attribute per tag: nh3 adds several in hash order, which varies between
# processes, and pages must be byte-for-byte deterministic. Inputs are rewritten after.
_FORCED_VALUES = {"img": {"loading": "lazy"}}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "data"}
_KEPT_REL = ("nofollow", "ugc", "sponsored", "noopener", "noreferrer")
_EXTERNAL_REL = ("noopener", "noreferrer")
_HIGHLIGHT_CLASS = re.compile(r"hljs[\w-]*|language-[\w+#.-]+|lang-[\w+#.-]+")
_URL_NOISE = re.compile(r"[\t\n\r]")
_URL_ATTRIBUTES = frozenset({"href", "src", "srcset", "cite"})
_URL_BRACKETS = str.maketrans({"<": "%3C", ">": "%3E"})
_TEXT_BRACKETS = str.maketrans({"<": "\u2039", ">": "\u203a"})

_LAZY_SOURCES = ("data-src", "data-original", "data-actualsrc", "data-lazy-src")
_PLACEHOLDER_IMAGE = re.compile(
    r"placeholder|(?:loading|lazy|blank|spacer|pixel|transparent|grey|gray)\.(?:gif|png|svg|jpe?g)",
    re.IGNORECASE,
)
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_CODE_REGION = re.compile(r"(<(pre|code)\b[^>]*>)(.*?)(</\2\s*>)", re.IGNORECASE | re.DOTALL)
_NOT_A_HIGHLIGHTER_TAG = re.compile(
    r"<(?!/?(?:span|br|code|b|strong|i|em|mark|p)\b)", re.IGNORECASE
)

# 12 characters a level covers the widest marker ("123456789. "): enough to pass the limit.
_INLINE_MARKERS = ("*", "_", "[", "]", "`", "|")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CONTAINER_CHARACTERS = re.compile(
    rf"^[ \t>*+\-_0-9.)]{{1,{12 * (MAX_NESTING_DEPTH + 1)}}}", re.MULTILINE
)
_CONTAINER_PREFIX = re.compile(r"(?:[ \t]*(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)))*[ \t]*")
_CONTAINER_MARKER = re.compile(r">|[-+*]|\d{1,9}[.)]")
_THEMATIC_BREAK = re.compile(r"[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*?)?(/?)>")
# Void elements never hold others; these close themselves when a sibling starts.
_NOT_NESTING = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "rp", "rt",
    }
)  # fmt: skip
_ANCHOR_TAG = re.compile(r"<a\s[^>]*>")
_INPUT_TAG = re.compile(r"<input\b[^>]*>")
_HREF = re.compile(r'\shref="([^"]*)"')
_REL = re.compile(r'\srel="([^"]*)"')
_HEADING = re.compile(r"<(h[1-6])((?:\s[^>]*)?)>(.*?)</\1>", re.DOTALL)
_ID = re.compile(r'\sid="([^"]*)"')
_TAG = re.compile(r"<[^>]*>")


def render_body(
    body: str, excerpt: str | None = None, *, site_url: str | None = None
) -> tuple[str, str]:
    """(body_html, excerpt_html), both sanitised.

    ``excerpt`` is the front-matter excerpt; ``site_url`` (``settings.url``) tells which
    absolute links are to this site and so need no ``rel``.
    """
    rendered = to_html(body)
    marker = _MORE_MARKER.search(rendered)
    # The anchor goes in before sanitising, as an element nh3 keeps: nothing edits its output.
    anchored = rendered if marker is None else _MORE_MARKER.sub(MORE_ANCHOR, rendered, count=1)
    body_html = _finish(anchored, site_url)
    if excerpt is not None and excerpt.strip():
        excerpt_html = _finish(to_html(excerpt), site_url)
    elif marker is not None:
        excerpt_html = _finish(rendered[: marker.start()], site_url)
    else:
        excerpt_html = summary_html(body_html)
    return body_html, excerpt_html


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (C0 controls but tab, CR and LF;
    surrogates; U+FFFE, U+FFFF): one of them in a title or body would break every feed."""
    return _NOT_XML.sub("", text)


def to_html(markdown: str) -> str:
    """Markdown (GFM, Hexo's `breaks: true`) with raw HTML kept: NOT yet safe.

    Raises ``TooDeepError`` past ``MAX_NESTING_DEPTH`` before cmark or nh3 sees the text.
    """
    depth = nesting_depth(markdown)
    if depth > MAX_NESTING_DEPTH:
        raise TooDeepError(
            f"the body nests block quotes, lists or HTML elements {depth} levels deep; "
            f"the limit is {MAX_NESTING_DEPTH}"
        )
    markers = sum(markdown.count(marker) for marker in _INLINE_MARKERS)
    if markers > MAX_INLINE_MARKERS:
        raise TooComplexError(
            f"the body has {markers} emphasis, link, code and table markers (* _ [ ] ` |); "
            f"the limit is {MAX_INLINE_MARKERS}"
        )
    if _WRAPPED_IN_DIV.match(markdown):
        return markdown
    import cmarkgfm
    from cmarkgfm.cmark import Options

    options = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_HARDBREAKS
    html_text: str = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=options, extensions=list(_CMARK_EXTENSIONS)
    )
    return html_text


def nesting_depth(markdown: str, limit: int = MAX_NESTING_DEPTH) -> int:
    """The nesting a renderer would build, estimated from above in one linear pass.

    Per line with a block-quote or list marker: the markers plus indentation (two columns a
    level, as nested list items are indented); over the text: raw HTML elements open at
    once (void and self-closing ones excepted). Only "beyond ``limit``?" is answered
    exactly: it returns the first depth found past ``limit``, else one at most ``limit``.
    """
    deepest_line = 0
    for candidate in _CONTAINER_CHARACTERS.finditer(markdown):
        if len(candidate.group(0)) <= limit:
            continue  # a line cannot nest deeper than its prefix is long
        line = candidate.group(0)
        prefix = _CONTAINER_PREFIX.match(line)
        if prefix is None or _THEMATIC_BREAK.match(line):
            continue
        text = prefix.group(0)
        markers = len(_CONTAINER_MARKER.findall(text))
        if not markers:
            continue  # indentation alone (code, continuation) opens no container
        indent = len(text) - len(text.lstrip(" \t"))
        deepest_line = max(deepest_line, markers + indent // 2)
        if deepest_line > limit:
            return deepest_line
    open_elements = deepest_html = 0
    for tag in _HTML_TAG.finditer(markdown):
        closing, name, self_closing = tag.groups()
        if name.lower() in _NOT_NESTING:
            continue
        if closing:
            open_elements = max(open_elements - 1, 0)
        elif not self_closing:
            open_elements += 1
            deepest_html = max(deepest_html, open_elements)
            if deepest_html > limit:
                break
    return max(deepest_line, deepest_html)


def sanitize(untrusted_html: str, *, site_url: str | None = None) -> str:
    """The one sanitising policy: untrusted HTML in, HTML safe to serve out."""
    prepared = _escape_markup_in_code(_promote_lazy_images(untrusted_html))
    cleaned: str = _cleaner()(prepared)
    return _mark_external_links(_as_task_checkboxes(cleaned), _host(site_url))


def summary_html(body_html: str, limit: int = SUMMARY_CHARACTERS) -> str:
    """The first ``limit`` characters of the text of sanitised HTML, as one escaped <p>."""
    text = " ".join(html.unescape(_TAG.sub(" ", body_html)).split())
    if not text:
        return ""
    if len(text) > limit:
        cut = text[:limit]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit * 0.8 else cut).rstrip() + "…"
    return f"<p>{html.escape(text, quote=False)}</p>"


def _finish(rendered: str, site_url: str | None) -> str:
    return _add_heading_ids(sanitize(rendered, site_url=site_url))


@cache
def _cleaner() -> Any:
    import nh3

    cleaner = nh3.Cleaner(
        tags=set(_ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        link_rel=None,
        tag_attribute_values=_RESTRICTED_VALUES,
        set_tag_attribute_values=_FORCED_VALUES,
        url_schemes=set(_URL_SCHEMES),
        strip_comments=True,
    )
    return cleaner.clean


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Per-value rules the allow-list cannot say (nh3 calls this for kept attributes)."""
    # nh3 leaves < and > unescaped in attribute values; without them every tag in its
    # output ends at its first ">", which the passes below (rel, heading ids) rely on.
    value = value.translate(_URL_BRACKETS if attribute in _URL_ATTRIBUTES else _TEXT_BRACKETS)
    if attribute == "class":
        kept = [name for name in value.split() if _HIGHLIGHT_CLASS.fullmatch(name)]
        return " ".join(kept) or None
    if attribute == "rel":
        tokens = [token for token in value.lower().split() if token in _KEPT_REL]
        return " ".join(dict.fromkeys(tokens)) or None
    if attribute == "srcset":
        return value if all(_is_web_url(part) for part in value.split(",")) else None
    if url_scheme(value) == "data":
        return value if (tag, attribute) == ("img", "src") and _is_data_image(value) else None
    return value


def _is_data_image(url: str) -> bool:
    return _URL_NOISE.sub("", url).strip().lower().startswith("data:image/")


def _is_web_url(candidate: str) -> bool:
    url = candidate.strip().split(" ", 1)[0]
    return url_scheme(url) in (None, "http", "https")


def _promote_lazy_images(untrusted_html: str) -> str:
    if "data-" not in untrusted_html:
        return untrusted_html
    return _IMG_TAG.sub(_promote_lazy_image, untrusted_html)


def _promote_lazy_image(match: re.Match[str]) -> str:
    tag = match.group(0)
    attributes = _parse_attributes(tag[4:].rstrip(">").rstrip("/"))
    names = {name.lower() for name, _ in attributes}
    lazy_source = next(
        (value for name, value in attributes if name.lower() in _LAZY_SOURCES and value.strip()),
        None,
    )
    if lazy_source is None:
        return tag
    src = next((value for name, value in attributes if name.lower() == "src"), "")
    if "src" in names and not _is_placeholder(src):
        return tag
    kept = [(name, value) for name, value in attributes if name.lower() != "src"]
    return (
        "<img"
        + "".join(_attribute(name, value) for name, value in kept)
        + _attribute("src", lazy_source)
        + ">"
    )


def _parse_attributes(text: str) -> list[tuple[str, str]]:
    return [
        (name, double if double else single if single else bare)
        for name, double, single, bare in _ATTRIBUTE.findall(text)
    ]


def _attribute(name: str, raw_value: str) -> str:
    quote = "'" if '"' in raw_value else '"'
    return f" {name}={quote}{raw_value}{quote}"


def _is_placeholder(src: str) -> bool:
    value = src.strip()
    return (
        not value
        or url_scheme(value) in ("data", "about", "javascript")
        or bool(_PLACEHOLDER_IMAGE.search(value))
    )


def _escape_markup_in_code(untrusted_html: str) -> str:
    if "<pre" not in untrusted_html and "<code" not in untrusted_html:
        return untrusted_html
    return _CODE_REGION.sub(
        lambda region: region[1] + _NOT_A_HIGHLIGHTER_TAG.sub("&lt;", region[3]) + region[4],
        untrusted_html,
    )


def _as_task_checkboxes(clean_html: str) -> str:
    """Every input becomes a disabled checkbox: the one input Markdown task lists make."""
    if "<input" not in clean_html:
        return clean_html
    return _INPUT_TAG.sub(
        lambda tag: (
            '<input type="checkbox" checked="" disabled="">'
            if " checked=" in tag.group(0)
            else '<input type="checkbox" disabled="">'
        ),
        clean_html,
    )


def _host(site_url: str | None) -> str | None:
    if not site_url:
        return None
    try:
        return urlsplit(site_url).hostname
    except ValueError:
        return None


def _mark_external_links(clean_html: str, site_host: str | None) -> str:
    """rel="noopener noreferrer" on links to other hosts (input: nh3's canonical output)."""

    def mark(match: re.Match[str]) -> str:
        tag = match.group(0)
        href = _HREF.search(tag)
        if href is None or not _is_external(html.unescape(href.group(1)), site_host):
            return tag
        rel = _REL.search(tag)
        existing = rel.group(1).split() if rel else []
        tokens = " ".join(dict.fromkeys([*existing, *_EXTERNAL_REL]))
        if rel is None:
            return tag[:-1] + f' rel="{tokens}">'
        return tag[: rel.start()] + f' rel="{tokens}"' + tag[rel.end() :]

    return _ANCHOR_TAG.sub(mark, clean_html)


def _is_external(href: str, site_host: str | None) -> bool:
    url = href.strip()
    if url_scheme(url) not in ("http", "https") and not url.startswith("//"):
        return False
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return True
    return site_host is None or host != site_host.lower()


def _add_heading_ids(clean_html: str) -> str:
    if "<h" not in clean_html:
        return clean_html
    taken: set[str] = {
        html.unescape(found)
        for heading in _HEADING.finditer(clean_html)
        for found in _ID.findall(heading.group(2))
    }
    repeats: dict[str, int] = {}

    def add_id(match: re.Match[str]) -> str:
        tag, attributes, inner = match.group(1), match.group(2), match.group(3)
        if _ID.search(attributes):
            return match.group(0)
        anchor = slugize(_TAG.sub("", html.unescape(inner)))
        if not anchor:
            return match.group(0)
        unique = anchor
        while unique in taken:
            repeats[anchor] = repeats.get(anchor, 0) + 1
            unique = f"{anchor}-{repeats[anchor]}"
        taken.add(unique)
        return f'<{tag}{attributes} id="{html.escape(unique)}">{inner}</{tag}>'

    return _HEADING.sub(add_id, clean_html)
