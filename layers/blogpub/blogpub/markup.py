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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from itertools import accumulate, compress, pairwise, zip_longest
from operator import not_, sub
from typing import Any
from urllib.parse import urlsplit

from blogpub.errors import TooComplexError, TooDeepError
from blogpub.highlight import HeldOut, HighlightSettings, highlight_code_blocks, highlighter
from blogpub.mathml import (
    MATHML_ATTRIBUTES,
    MATHML_ELEMENTS,
    TEX_ENCODING,
    Formula,
    protect_math,
    restore_math,
)
from blogpub.settings import ExternalLinks
from blogpub.tags.model import (
    PLACEHOLDER_COMMENT,
    ResolvedPost,
    TagContext,
    TagResult,
    may_hold_tags,
)
from blogpub.urls import slugize, url_scheme

SUMMARY_CHARACTERS = 200
_HEXO_EXTERNAL_LINKS = ExternalLinks()  # Hexo 7's default
# cmark and nh3 slow down steeply with nesting (32k quotes take seconds, 100k minutes).
MAX_NESTING_DEPTH = 256
# cmark builds a node per delimiter: 1 MiB of "[" or table pipes takes 270-550 MB and seconds
# (bench/pathological.py). Hand-written posts use a few thousand.
MAX_INLINE_MARKERS = 200_000
MORE_ANCHOR = '<span id="more"></span>'

_MORE_MARKER = re.compile(r"<!--\s*more\s*-->", re.IGNORECASE)
_WRAPPED_IN_DIV = re.compile(r"\A\s*<div\b[^>]*>.*</div>\s*\Z", re.IGNORECASE | re.DOTALL)

_CMARK_EXTENSIONS = ("table", "strikethrough", "autolink", "tasklist")
_CMARK_OPT_FULL_INFO_STRING = 1 << 16  # cmark-gfm's, which cmarkgfm's Options lacks

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
        "svg", "audio", "video",
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
    "details": {"open", "class"},
    "abbr": {"title"},
    **{heading: {"id"} for heading in _HEADINGS},
    # MathML as mathml.py rebuilds it: its elements and presentation attributes only.
    **{element: set(MATHML_ATTRIBUTES) for element in MATHML_ELEMENTS},
}
# The classes the tag plugins and the highlighter write (each value checked below).
for _element in ("figure", "td", "div", "section", "h4", "mark", "a", "p", "blockquote"):
    _ALLOWED_ATTRIBUTES[_element] = _ALLOWED_ATTRIBUTES.get(_element, set()) | {"class"}
# Class names each element may carry beyond the highlighter's (the tags' and hexo-util's
# markup); the theme's own names are never allowed, so a post cannot borrow its look.
_TAG_CLASSES: dict[str, frozenset[str]] = {
    "figure": frozenset({"highlight", "hljs"}),
    "td": frozenset({"gutter", "code"}),
    "pre": frozenset({"mermaid"}),
    "code": frozenset({"highlight", "hljs"}),
    "span": frozenset({"line", "marked", "music-link"}),
    "div": frozenset(
        {
            "note", "default", "primary", "info", "success", "warning", "danger", "no-icon",
            "blue", "pink", "red", "purple", "orange", "green", "simple", "modern", "flat",
            "disabled", "icon-padding", "tabs", "video-container", "group-picture",
            "group-picture-row", "group-picture-column",
        }
    ),
    "section": frozenset({"tab-pane"}),
    "h4": frozenset({"tab-title"}),
    "mark": frozenset(
        {
            "label", "default", "primary", "success", "info", "warning", "danger",
            "blue", "pink", "red", "purple", "orange", "green",
        }
    ),
    "a": frozenset({"btn", "iframe-link"}),
    "p": frozenset({"video-link"}),
    "blockquote": frozenset({"pullquote", "left", "right", "blockquote-center"}),
}  # fmt: skip
_TAG_CLASSES["details"] = _TAG_CLASSES["div"] | {"spoiler"}
# Every class name the theme's templates and style.css use (tests/unit/test_markup_wiring.py).
THEME_CLASSES = frozenset(
    {
        "all-months", "author", "breadcrumb", "by-month", "comments", "count", "cover",
        "depth-1", "depth-2", "depth-3", "empty", "entries", "entry", "entry-cover",
        "entry-excerpt", "entry-title", "meta", "months", "overview", "overview-tag", "page",
        "page-title", "post", "post-body", "post-footer", "post-header", "post-title", "sep",
        "site-footer", "site-header", "site-nav", "site-subtitle", "site-title", "tags", "up",
        "visually-hidden", "wrap", "year",
    }
)  # fmt: skip
# A language (figure.highlight LANG, code.highlight LANG) and Pygments' short token classes.
_LANGUAGE_CLASS = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")
_TOKEN_CLASS = re.compile(r"[a-z]{1,3}[0-9]?")
# The privacy-enhanced players the youtube and vimeo tags embed when the site allows it.
_EMBED_SOURCES = ("https://www.youtube-nocookie.com/embed/", "https://player.vimeo.com/video/")
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
    "annotation": {"encoding": {TEX_ENCODING}},
}
# One forced attribute per tag: nh3 adds several in hash order, which varies between
# processes, and pages must be byte-for-byte deterministic. Inputs are rewritten after.
_FORCED_VALUES = {"img": {"loading": "lazy"}}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "data"}
_KEPT_REL = ("nofollow", "ugc", "sponsored", "noopener", "noreferrer")
_EXTERNAL_REL = ("noopener", "noreferrer")
_HIGHLIGHT_CLASS = re.compile(r"hljs[\w-]*|language-[\w+#.-]+|lang-[\w+#.-]+")
_WEB_SCHEMES = ("https://", "http://")  # a value starting so has no other scheme
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
_IFRAME_START = re.compile("<iframe", re.IGNORECASE | re.ASCII)  # as in html.lower()
_IFRAME = re.compile(r"<iframe\b([^>]*)>(.*?)</iframe\s*>", re.IGNORECASE | re.DOTALL)
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
# Up to the first closing tag of the same name, as a lazy ".*?" finds it but twice as fast;
# possessive, so an element never closed costs one pass, not a backtracking one.
# (only an element with a "<" inside: one without has nothing to escape)
_CODE_REGION = re.compile(
    r"(<(pre|code)\b[^>]*>)([^<]*+(?:<(?!/\2\s*>)[^<]*+)++)(</\2\s*>)", re.IGNORECASE
)
_NOT_A_HIGHLIGHTER_TAG = re.compile(
    r"<(?!/?(?:span|br|code|b|strong|i|em|mark|p)\b)", re.IGNORECASE
)

# 12 characters a level covers the widest marker ("123456789. "): enough to pass the limit.
_INLINE_MARKERS = ("*", "_", "[", "]", "`", "|")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CONTAINER_WIDTH = 12 * (MAX_NESTING_DEPTH + 1)
_CONTAINER_PREFIX = re.compile(r"(?:[ \t]*(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)))*[ \t]*")
_CONTAINER_MARKER = re.compile(r">|[-+*]|\d{1,9}[.)]")
_THEMATIC_BREAK = re.compile(r"[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$")
# (possessive: no step back per character; a tag closes itself where "/>" ends it)
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*+)((?:\s[^<>]*+)?/?)>")
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
_SPAN_TAG = re.compile(r"</?span\b[^>]*>")
_GUTTER = re.compile(r'<td class="gutter">.*?</td>', re.DOTALL)
_ESCAPED_PLACEHOLDER = html.escape(PLACEHOLDER_COMMENT, quote=False)
_HTML_PIECES = re.compile(r"(<[^<>]*>)")
# marked's url rule takes a bare URL (and its tildes) before its del rule: links are skipped
# (a whole piece of _HTML_PIECES: no "<" or ">" inside)
_CODE_TAG_PIECE = re.compile(r"(<(/?)(?:pre|code|script|style|a)\b[^<>]*>)", re.IGNORECASE)
_CODE_STEP = {"": 1, "/": -1}  # a _CODE_TAG_PIECE opening, a closing
# marked 4's del (`^(~~?)(?=[^\s~])([\s\S]*?[^\s~])\1(?=[^~]|$)`), not after a tilde
_MARKED_DEL = re.compile(r"(?<!~)(~~?)(?=[^\s~])(.*?[^\s~])\1(?=[^~]|$)", re.DOTALL)
_MARKED_STRONG = re.compile(r"(?<![*\\])\*\*(?=[^\s*])(.*?[^\s*])\*\*(?!\*)", re.DOTALL)
_LOCATED_CODE = re.compile(r'<pre data-sourcepos="(\d+):(\d+)-[^"]*"><code( class="[^"]*")?')
_SOURCEPOS = re.compile(r' data-sourcepos="\d+:\d+-\d+:\d+"')
_INDENTED_CODE = ' data-indented=""'  # highlight.py's block pattern does not take it
_HELD_INDEX = re.compile(r"-(\d+)-(?=<)")  # the rest of a HeldOut placeholder, before a tag


def _unresolved(_target: str) -> ResolvedPost | None:
    return None


@dataclass(frozen=True)
class BodyOptions:
    """What rendering one post's body needs besides its text (render.py builds it from the
    settings and the post). ``resolve_post`` maps a ``post_link`` target to the published
    post, ``None`` while there is none; ``assets`` names its asset folder's files if known."""

    site_url: str | None = None
    root: str = "/"
    post_url: str = "/"
    highlight: HighlightSettings = field(default_factory=HighlightSettings)
    privacy_embeds: bool = False
    external_links: ExternalLinks = field(default_factory=ExternalLinks)
    resolve_post: Callable[[str], ResolvedPost | None] = _unresolved
    assets: frozenset[str] | None = None


@dataclass(frozen=True)
class BodyWarning:
    """Something in the body shown as text instead (an unknown or bad tag, a formula that
    did not convert); the post still publishes. ``name`` is the tag's, or ``math``."""

    name: str
    line: int
    message: str
    last_line: int | None = None

    def __str__(self) -> str:
        return self.located(0)

    def located(self, shift: int) -> str:
        """The warning with its line(s) ``shift`` lines further (the body's first line's)."""
        if self.last_line is None or self.last_line == self.line:
            return f"line {self.line + shift}: {self.message}"
        return f"lines {self.line + shift} to {self.last_line + shift}: {self.message}"


@dataclass(frozen=True)
class RenderedBody:
    """A body rendered: its HTML and excerpt (both sanitised), its warnings in body order,
    the ``post_link``/``post_path`` targets it names and those not published yet."""

    html: str
    excerpt_html: str
    warnings: tuple[BodyWarning, ...] = ()
    linked_posts: tuple[str, ...] = ()
    pending_links: tuple[str, ...] = ()


def render_body(
    body: str, excerpt: str | None = None, *, site_url: str | None = None
) -> tuple[str, str]:
    """(body_html, excerpt_html), both sanitised, with the default options.

    ``excerpt`` is the front-matter excerpt; ``site_url`` (``settings.url``) tells which
    absolute links are to this site.
    """
    rendered = render_post_body(body, excerpt, BodyOptions(site_url=site_url))
    return rendered.html, rendered.excerpt_html


def render_post_body(body: str, excerpt: str | None, options: BodyOptions) -> RenderedBody:
    """The body through the whole pipeline: math protected, tags expanded, Markdown, code
    highlighted, math put back as MathML, then nh3 (whose output nothing edits but the
    link, checkbox and heading-id passes over its canonical tags, and the splice of the
    highlighted lines held out of it)."""
    held = HeldOut()
    rendered, result = _markdown(body, options, held)
    marker = _MORE_MARKER.search(rendered)
    # The anchor goes in before sanitising, as an element nh3 keeps: nothing edits its output.
    anchored = rendered if marker is None else _MORE_MARKER.sub(MORE_ANCHOR, rendered, count=1)
    body_html = _finish(anchored, options, held)
    if excerpt is not None and excerpt.strip():
        excerpt_html = _finish(_markdown(excerpt, options, held)[0], options, held)
    elif marker is not None:
        excerpt_html = _finish(rendered[: marker.start()], options, held)
    else:
        excerpt_html = summary_html(body_html)
    return RenderedBody(
        body_html, excerpt_html, result.warnings, result.linked_posts, result.pending_links
    )


def _markdown(
    body: str, options: BodyOptions, held: HeldOut | None = None
) -> tuple[str, RenderedBody]:
    """Markdown's HTML of a body, tags and math done, NOT yet safe; and what the tags said.
    With ``held``, the highlighted lines of fenced code are held out there."""
    text, formulas = protect_math(body)
    context = TagContext(
        render_markdown=to_html,
        root=options.root,
        url=options.site_url or "http://example.com",
        post_url=options.post_url,
        resolve_post=options.resolve_post,
        highlight=highlighter(options.highlight) if options.highlight.enable else None,
        privacy_embeds=options.privacy_embeds,
        assets=options.assets,
        hold_table=None if held is None else partial(held.hold, in_figure=True),
    )
    if may_hold_tags(text):  # the tag plugins load only for a body that can have a tag
        from blogpub.tags import expand_tags

        tags = expand_tags(text, context)
    else:
        tags = TagResult(text)
    rendered = to_html(tags.text)
    if PLACEHOLDER_COMMENT not in body:
        # a tag's comment that Markdown put in code is shown there: Hexo's is never seen
        rendered = rendered.replace(_ESCAPED_PLACEHOLDER, "")
    rendered = highlight_code_blocks(rendered, options.highlight, held)
    if held is not None and formulas:
        # a formula's placeholder in code becomes MathML there, which nh3 must see
        pieces = held.pieces
        rendered = held.released(
            rendered,
            lambda number, _: any(formula.placeholder in pieces[number] for formula in formulas),
        )
    rendered = restore_math(rendered, formulas)
    warnings = [
        BodyWarning(
            warning.name,
            _source_line(warning.line, formulas),
            warning.message,
            None if warning.last_line is None else _source_line(warning.last_line, formulas),
        )
        for warning in tags.warnings
    ]
    warnings += [
        BodyWarning("math", formula.warning.line, formula.warning.message)
        for formula in formulas
        if formula.warning is not None
    ]
    warnings.sort(key=lambda warning: warning.line)
    return rendered, RenderedBody("", "", tuple(warnings), tags.linked_posts, tags.pending_links)


def _source_line(line: int, formulas: tuple[Formula, ...]) -> int:
    """The body's line of a line of the math-protected text (a formula over several lines
    is one placeholder there)."""
    shift = 0
    for formula in formulas:
        if formula.line - shift >= line:
            break
        shift += formula.latex.count("\n")
    return line + shift


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (C0 controls but tab, CR and LF;
    surrogates; U+FFFE, U+FFFF): one of them in a title or body would break every feed."""
    return _NOT_XML.sub("", text)


def to_html(markdown: str) -> str:
    """Markdown (GFM, Hexo's `breaks: true`) with raw HTML kept: NOT yet safe.

    Raises ``TooDeepError`` past ``MAX_NESTING_DEPTH`` before cmark or nh3 sees the text.
    """
    # A level of nesting and a marker take a character each: text no longer than a limit
    # cannot pass it (most calls are a tag's few lines, which then cost no count).
    if len(markdown) > MAX_NESTING_DEPTH:
        depth = nesting_depth(markdown)
        if depth > MAX_NESTING_DEPTH:
            raise TooDeepError(
                f"the body nests block quotes, lists or HTML elements {depth} levels deep; "
                f"the limit is {MAX_NESTING_DEPTH}"
            )
    if len(markdown) > MAX_INLINE_MARKERS:
        markers = sum(markdown.count(marker) for marker in _INLINE_MARKERS)
        if markers > MAX_INLINE_MARKERS:
            raise TooComplexError(
                f"the body has {markers} emphasis, link, code and table markers "
                f"(* _ [ ] ` |); the limit is {MAX_INLINE_MARKERS}"
            )
    if _WRAPPED_IN_DIV.match(markdown):
        return markdown
    from blogpub.cmark import markdown_to_html

    options, sourcepos = _cmark_options()
    html_text = markdown_to_html(markdown, options, _CMARK_EXTENSIONS)
    if "<pre><code>" in html_text:
        # a fence without a language, or indented code: only the sources tell them apart
        located = markdown_to_html(markdown, options | sourcepos, _CMARK_EXTENSIONS)
        html_text = _mark_indented_code(markdown, located)
    if "~" in html_text or "**" in html_text:
        html_text = _marked_leftovers(html_text)  # (on the HTML returned, located or not)
    return html_text


@cache
def _cmark_options() -> tuple[int, int]:
    """cmark's options for a body, and its option that adds the source positions (looked
    up once: ``to_html`` runs for every tag body too)."""
    from cmarkgfm.cmark import Options

    # SMART: hexo-renderer-marked's smartypants (curly quotes, dashes, ellipses); the full
    # info string keeps a fence's caption ("```c password.c") for the highlighter.
    options = (
        Options.CMARK_OPT_UNSAFE
        | Options.CMARK_OPT_HARDBREAKS
        | Options.CMARK_OPT_SMART
        | _CMARK_OPT_FULL_INFO_STRING
    )
    return options, Options.CMARK_OPT_SOURCEPOS


def _marked_leftovers(html_text: str) -> str:
    """Strikethrough and strong emphasis that marked makes and cmark leaves as text: marked's
    del rule has no flanking rule (``中~（笑~）``), and its emphasis counts only ASCII
    punctuation, so ``**（注）**中`` is strong there. Only text outside code and links is
    changed, one text run at a time."""
    # the stretches between code, pre, script, style and link tags, each with its depth,
    # found by C loops (split, running sum): most bodies have their tildes and asterisks in
    # code only, so the stretches outside are looked at together first
    pieces = _CODE_TAG_PIECE.split(html_text)  # stretch, tag, "/" or "", stretch...
    stretches, tags = pieces[::3], pieces[1::3]
    depths = list(accumulate(map(_CODE_STEP.__getitem__, pieces[2::3]), initial=0))
    outside = "<".join(compress(stretches, map(not_, depths)))
    if "~" not in outside and "**" not in outside:
        return html_text
    out: list[str] = []
    for stretch, depth, tag in zip_longest(stretches, depths, tags, fillvalue=""):
        out += (stretch if depth else _marked_text(stretch), tag)
    return "".join(out)


def _marked_text(stretch: str) -> str:
    """``_marked_leftovers`` on a stretch outside code and links: its text runs only."""
    if "~" not in stretch and "**" not in stretch:
        return stretch
    pieces = _HTML_PIECES.split(stretch)
    for index in range(0, len(pieces), 2):
        piece = pieces[index]
        if "~" in piece or "**" in piece:
            strong = _MARKED_STRONG.sub(r"<strong>\1</strong>", piece)
            pieces[index] = _MARKED_DEL.sub(r"<del>\2</del>", strong)
    return "".join(pieces)


def _mark_indented_code(markdown: str, located: str) -> str:
    """cmark's HTML with SOURCEPOS, its positions removed and each indented code block's
    ``<code>`` marked ``data-indented`` (the sanitiser drops it): Hexo highlights fenced
    code only (its backtick_code_block filter), marked leaves indented code plain."""
    lines = markdown.split("\n")

    def code_block(match: re.Match[str]) -> str:
        line, column = int(match[1]), int(match[2])
        start = lines[line - 1].encode("utf-8")[column - 1 :] if line <= len(lines) else b""
        # Hexo's filter finds a fence at any indentation: indented code opening with one
        fenced = start.lstrip(b" \t").startswith((b"```", b"~~~")) or match[3] is not None
        return "<pre><code" + ("" if fenced else _INDENTED_CODE) + (match[3] or "")

    marked = _LOCATED_CODE.sub(code_block, located)
    return _SOURCEPOS.sub("", marked)


@cache
def _container_prefixes(limit: int) -> re.Pattern[str]:
    """Line starts of container characters (up to ``_CONTAINER_WIDTH``), over ``limit`` long."""
    if limit >= _CONTAINER_WIDTH:
        return re.compile("(?!)")  # no line is looked at
    # after "\n", so that re skips from line break to line break (the caller adds one)
    return re.compile(rf"\n([ \t>*+\-_0-9.)]{{{limit + 1},{_CONTAINER_WIDTH}}})")


def nesting_depth(markdown: str, limit: int = MAX_NESTING_DEPTH) -> int:
    """The nesting a renderer would build, estimated from above in one linear pass.

    Per line with a block-quote or list marker: the markers plus indentation (two columns a
    level, as nested list items are indented); over the text: raw HTML elements open at
    once (void and self-closing ones excepted). Only "beyond ``limit``?" is answered
    exactly: past ``limit`` it returns ``limit + 1`` or the first line's depth found past
    it, else one at most ``limit``.
    """
    deepest_line = 0
    # a line cannot nest deeper than its prefix is long: only longer prefixes are looked at
    for candidate in _container_prefixes(limit).finditer("\n" + markdown):
        line = candidate.group(1)
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
    # an element opens at a "<" that no "/" follows: no more can be open at once
    if markdown.count("<") - markdown.count("</") <= limit:
        return deepest_line
    return max(deepest_line, _html_depth(markdown, limit))


def _html_depth(markdown: str, limit: int) -> int:
    """The most raw HTML elements open at once, up to ``limit + 1``: an opening tag opens
    one (void and self-closing ones excepted), a closing tag closes one if any is open.

    The count after each tag is the running sum of those steps less its lowest value so
    far (not below 0), so the deepest point is found by C loops, not one per tag."""
    steps = [
        0 if name.lower() in _NOT_NESTING else -1 if closing else 0 if tail[-1:] == "/" else 1
        for closing, name, tail in _HTML_TAG.findall(markdown)
    ]
    totals = list(accumulate(steps))
    lowest = accumulate(totals, min, initial=0)
    next(lowest)  # (the start, before any tag: nothing open)
    return min(max(map(sub, totals, lowest), default=0), limit + 1)


def sanitize(
    untrusted_html: str,
    *,
    site_url: str | None = None,
    privacy_embeds: bool = False,
    external_links: ExternalLinks | None = None,
) -> str:
    """The one sanitising policy: untrusted HTML in, HTML safe to serve out.

    ``privacy_embeds`` keeps iframes of the privacy-enhanced YouTube and Vimeo players."""
    prepared = _escape_markup_in_code(_promote_lazy_images(untrusted_html))
    prepared = _iframe_fallbacks(prepared, privacy_embeds)
    cleaned: str = _cleaner(privacy_embeds)(prepared)
    links = external_links or ExternalLinks()
    return _mark_external_links(_as_task_checkboxes(cleaned), _host(site_url), links)


def summary_html(body_html: str, limit: int = SUMMARY_CHARACTERS) -> str:
    """The first ``limit`` characters of the text of sanitised HTML, as one escaped <p>."""
    text = " ".join(html.unescape(_TAG.sub(" ", without_line_numbers(body_html))).split())
    if not text:
        return ""
    if len(text) > limit:
        cut = text[:limit]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit * 0.8 else cut).rstrip() + "…"
    return f"<p>{html.escape(text, quote=False)}</p>"


def without_line_numbers(clean_html: str) -> str:
    """Sanitised HTML for its text: highlighted code without its line numbers, and no
    span tags, so token spans do not split words apart when tags become spaces."""
    if "<span" not in clean_html:
        return clean_html
    return _SPAN_TAG.sub("", _GUTTER.sub(" ", clean_html))


def _finish(rendered: str, options: BodyOptions, held: HeldOut | None = None) -> str:
    def sanitized(untrusted_html: str) -> str:
        return sanitize(
            untrusted_html,
            site_url=options.site_url,
            privacy_embeds=options.privacy_embeds,
            external_links=options.external_links,
        )

    clean_html = sanitized(rendered)
    if held is None or not held.pieces:
        return _add_heading_ids(clean_html)
    # The held-out lines hold no heading: the ids go in before them, on the shorter text,
    # unless a placeholder stands in a heading (whose id its lines' text then makes).
    with_ids = _heading_ids(clean_html, unless_holding=held.token)
    spliced = _splice(
        clean_html if with_ids is None else with_ids, held, rendered.count(held.token)
    )
    if spliced is None:
        # a placeholder the sanitiser moved into text or an attribute, or dropped with a tag
        # the code's own quotes would have closed: the lines go through it
        return _add_heading_ids(sanitized(held.released(rendered)))
    return spliced if with_ids is not None else _add_heading_ids(spliced)


def _splice(clean_html: str, held: HeldOut, placed: int) -> str | None:
    """The sanitiser's output with each held-out placeholder replaced by its lines, where
    it stands alone between two tags: the text of an element (an attribute value has no
    ``<`` or ``>`` after ``_filter_attribute``, a comment is stripped). None where the
    token shows anywhere else, or twice for one index, or where fewer than the ``placed``
    placeholders of the sanitiser's input came out (``<div title='`` left open before a
    code block: the sanitiser drops the tag, placeholder and all, where the code's quotes
    would have closed the attribute)."""
    parts = clean_html.split(held.token)
    out = [parts[0]]
    seen: set[int] = set()
    for before, part in pairwise(parts):
        index = _HELD_INDEX.match(part)
        if index is None or not before.endswith(">"):
            return None
        number = int(index[1])
        if number >= len(held.pieces) or number in seen:
            return None
        if number in held.in_figure and not _alone_in_figure(before, part[index.end() :]):
            return None
        seen.add(number)
        out += (held.pieces[number], part[index.end() :])
    return "".join(out) if len(seen) == placed else None


def _alone_in_figure(before: str, after: str) -> bool:
    """Whether a figure's held-out table came out as the figure's content after its caption,
    if any: where anything stands between them (a formatting element the parser reopened
    for the placeholder's text), the table's own tags would have been read elsewhere."""
    last_tag = before[before.rfind("<") :]
    opens = last_tag.startswith("<figure ") or last_tag == "</figcaption>"
    return opens and after.startswith("</figure>")


@cache
def _cleaner(privacy_embeds: bool = False) -> Any:
    import nh3

    tags = set(_ALLOWED_TAGS) | MATHML_ELEMENTS
    dropped = set(_DROPPED_WITH_CONTENT)
    attributes = dict(_ALLOWED_ATTRIBUTES)
    if privacy_embeds:
        tags.add("iframe")
        dropped.discard("iframe")
        attributes["iframe"] = {"src", "loading", "allowfullscreen"}
    cleaner = nh3.Cleaner(
        tags=tags,
        clean_content_tags=dropped,
        attributes=attributes,
        attribute_filter=_filter_attribute_remembered,
        link_rel=None,
        tag_attribute_values=_RESTRICTED_VALUES,
        set_tag_attribute_values=_FORCED_VALUES,
        url_schemes=set(_URL_SCHEMES),
        strip_comments=True,
    )
    return cleaner.clean


def _filter_attribute_remembered(tag: str, attribute: str, value: str) -> str | None:
    """``_filter_attribute``, remembered for short classes: highlighted code repeats a few
    token classes thousands of times, and nh3 calls the filter for each."""
    if attribute == "class" and len(value) <= _REMEMBERED_CLASS_LENGTH:
        return _filter_class(tag, value)
    return _filter_attribute(tag, attribute, value)


_REMEMBERED_CLASS_LENGTH = 40


@lru_cache(maxsize=1024)
def _filter_class(tag: str, value: str) -> str | None:
    return _filter_attribute(tag, "class", value)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Per-value rules the allow-list cannot say (nh3 calls this for kept attributes)."""
    # nh3 leaves < and > unescaped in attribute values; without them every tag in its
    # output ends at its first ">", which the passes below (rel, heading ids) rely on.
    if "<" in value or ">" in value:
        value = value.translate(_URL_BRACKETS if attribute in _URL_ATTRIBUTES else _TEXT_BRACKETS)
    if attribute == "class":
        names = value.split()
        # hexo-util's "highlight LANG": the language may be any name but the theme's
        if (
            tag in ("figure", "code")
            and len(names) == 2
            and names[0] in ("highlight", "hljs")
            and _LANGUAGE_CLASS.fullmatch(names[1])
            and names[1] not in THEME_CLASSES
        ):
            return value
        kept = [name for name in names if _is_allowed_class(tag, name)]
        return " ".join(kept) or None
    if tag == "iframe" and attribute == "src":
        return value if value.startswith(_EMBED_SOURCES) else None
    if attribute == "rel":
        tokens = [token for token in value.lower().split() if token in _KEPT_REL]
        return " ".join(dict.fromkeys(tokens)) or None
    if attribute == "srcset":
        return value if all(_is_web_url(part) for part in value.split(",")) else None
    if ":" in value and not value.startswith(_WEB_SCHEMES) and url_scheme(value) == "data":
        return value if (tag, attribute) == ("img", "src") and _is_data_image(value) else None
    return value


def _is_allowed_class(tag: str, name: str) -> bool:
    if name in THEME_CLASSES:
        return False
    if _HIGHLIGHT_CLASS.fullmatch(name) or name in _TAG_CLASSES.get(tag, ()):
        return True
    return tag == "span" and bool(_TOKEN_CLASS.fullmatch(name))


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


def _iframe_fallbacks(untrusted_html: str, privacy_embeds: bool) -> str:
    """An iframe the policy drops leaves what it holds for browsers without frames (CodePen's
    "See the Pen …" links), or else a link to its page, instead of nothing."""
    if _IFRAME_START.search(untrusted_html) is None:
        return untrusted_html

    def fallback(match: re.Match[str]) -> str:
        attributes = {name.lower(): value for name, value in _parse_attributes(match[1])}
        src = html.unescape(attributes.get("src", "")).strip()
        if privacy_embeds and src.startswith(_EMBED_SOURCES):
            return match[0]
        if match[2].strip():
            return f"<span>{match[2].strip()}</span>"
        if url_scheme(src) not in ("http", "https"):
            return ""
        label = html.escape(html.unescape(attributes.get("title", "")).strip() or src)
        return f'<a class="iframe-link" href="{html.escape(src)}">{label}</a>'

    return _IFRAME.sub(fallback, untrusted_html)


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
    # (in any case: "<PRE>" too, whether or not a lower-case "<pre" is elsewhere in the body)
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


def _host(url: str | None) -> str | None:
    """A URL's host, lower-cased; None where it has none or does not parse."""
    if not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _mark_external_links(
    clean_html: str, site_host: str | None, links: ExternalLinks = _HEXO_EXTERNAL_LINKS
) -> str:
    """rel="noopener noreferrer" on links to other hosts, and with Hexo's ``external_link``
    on, target="_blank" (input: nh3's canonical output, so every tag is whole)."""
    excluded = {host.lower() for host in links.exclude}

    def mark(match: re.Match[str]) -> str:
        tag = match.group(0)
        href = _HREF.search(tag)
        if href is None:
            return tag
        url = html.unescape(href.group(1)).strip()
        external, host = _external_host(url, site_host)
        if not external:
            return tag
        rel = _REL.search(tag)
        existing = rel.group(1).split() if rel else []
        tokens = " ".join(dict.fromkeys([*existing, *_EXTERNAL_REL]))
        if rel is None:
            tag = tag[:-1] + f' rel="{tokens}">'
        else:
            tag = tag[: rel.start()] + f' rel="{tokens}"' + tag[rel.end() :]
        if links.enable and " target=" not in tag:
            if url != href.group(1):  # the host of the attribute as written (entities, spaces)
                host = _host(href.group(1))
            if host not in excluded:
                tag = tag[:-1] + ' target="_blank">'
        return tag

    return _ANCHOR_TAG.sub(mark, clean_html)


def _external_host(url: str, site_host: str | None) -> tuple[bool, str | None]:
    """Whether a stripped, unescaped link leads to another host than ``site_host``; and its
    host (None where it has none or it does not parse, which counts as external)."""
    if url_scheme(url) not in ("http", "https") and not url.startswith("//"):
        return False, None
    host = _host(url)
    return site_host is None or host != site_host.lower(), host


def _add_heading_ids(clean_html: str) -> str:
    with_ids = _heading_ids(clean_html, unless_holding=None)
    assert with_ids is not None  # (None only where a heading holds unless_holding)
    return with_ids


def _heading_ids(clean_html: str, unless_holding: str | None) -> str | None:
    """Each heading without an id given one from its text (hexo-renderer-marked's rule);
    None where a heading holds ``unless_holding``."""
    if "<h" not in clean_html:
        return clean_html
    # one scan, each heading's own ids read once: all of them are taken before any is given
    headings = [(found, _ID.findall(found.group(2))) for found in _HEADING.finditer(clean_html)]
    if unless_holding is not None and any(unless_holding in found[0] for found, _ in headings):
        return None
    taken: set[str] = {html.unescape(own) for _, ids in headings for own in ids}
    repeats: dict[str, int] = {}
    out: list[str] = []
    end = 0
    for heading, ids in headings:
        if ids:
            continue
        tag, attributes, inner = heading.group(1), heading.group(2), heading.group(3)
        anchor = slugize(_TAG.sub("", html.unescape(inner)))
        if not anchor:
            continue
        unique = anchor
        while unique in taken:
            repeats[anchor] = repeats.get(anchor, 0) + 1
            unique = f"{anchor}-{repeats[anchor]}"
        taken.add(unique)
        opening = f'<{tag}{attributes} id="{html.escape(unique)}">'
        out += (clean_html[end : heading.start()], opening, inner, f"</{tag}>")
        end = heading.end()
    return "".join(out) + clean_html[end:] if out else clean_html
