"""Code highlighting at publish time: Pygments tokens laid out as hexo-util's highlight does.

The shape follows hexo-util 3 (Hexo 7): ``<figure class="highlight LANG"><table><tr>
<td class="gutter"><pre><span class="line">1</span><br>…</pre></td><td class="code"><pre>
<span class="line">…</span><br>…</pre></td></tr></table></figure>``, with Pygments' short
token classes (``k``, ``s2``, ``c1``…, styled by theme/highlight.css) inside the line spans.
Pygments is imported only when there is code to highlight, so it costs no cold start.
"""

from __future__ import annotations

import html
import os
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from blogpub.lexing import tokens

if TYPE_CHECKING:
    from pygments.lexer import Lexer


@dataclass(frozen=True)
class HighlightSettings:
    """``highlight:`` of _config.yml, with Hexo 7's defaults (hexo lib/hexo/default_config)."""

    enable: bool = True
    line_number: bool = True
    auto_detect: bool = False
    tab_replace: str = ""
    wrap: bool = True
    hljs: bool = False
    strip_indent: bool = True


PLAIN = "plaintext"  # hexo-util's class for a block whose language is absent or unknown
_SAFE_LANG = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")
_INDENT = re.compile(r"^[ \t]*(?=\S)", re.MULTILINE)
# cmark's fenced or indented block: `<pre><code class="language-x">` or `<pre><code>`.
# cmark's FULL_INFO_STRING puts the rest of a fence's info string in data-meta.
# (The code: up to the first "</code></pre>", as ".*?" would find it, without a lazy step
# per character.)
_CMARK_BLOCK = re.compile(
    r'<pre><code(?: class="language-([^"]*)")?(?: data-meta="([^"]*)")?>'
    r"([^<]*+(?:<(?!/code></pre>)[^<]*+)*+)</code></pre>"
)
# The tags where the HTML parser leaves the body's own insertion mode (a table, a select,
# foreign content, a template...): a held-out table would stand for a table start tag there,
# which acts otherwise than the placeholder's text (it closes an open table, a select...);
# and "<pre" (a name that starts so, too), "</pre>".
_TABLE_CONTEXT = re.compile(
    r"<(?:(table|select|svg|math|template|frameset|plaintext)\b|pre|(/)pre\s*>)", re.IGNORECASE
)
# hexo's backtick_code_block: "lang caption [url [link text]]"
_CAPTION_URL = re.compile(r"(.+?)\s+(https?://\S+|/\S+)\s*(.+)?")


def escape(text: str) -> str:
    """Text for HTML content and attributes: ``& < > " '`` escaped."""
    return html.escape(text, quote=True)


def strip_indent(code: str) -> str:
    """npm strip-indent (hexo-util's stripIndent): remove the smallest indentation of the
    non-blank lines, counted in characters (a tab is one, as a space is)."""
    if code[:1] and not code[:1].isspace():
        return code  # the first line is not indented: nothing to remove
    indents = [len(match) for match in _INDENT.findall(code)]
    width = min(indents, default=0)
    return re.sub(rf"^[ \t]{{{width}}}", "", code, flags=re.MULTILINE) if width else code


_LEXER_OPTIONS = {"stripnl": False, "ensurenl": False}  # one output line per input line


@lru_cache(maxsize=64)
def _named_lexer(name: str) -> tuple[Lexer, str]:
    """A lexer by language name (lexers keep no state between texts, so one serves all)."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(name, **_LEXER_OPTIONS), name
    except ClassNotFound:
        return _text_lexer(), PLAIN


class _TokenClassCache(dict[Any, str]):
    """Pygments' short class of each token type (its nearest standard ancestor's)."""

    def __missing__(self, token_type: Any) -> str:
        from pygments.token import STANDARD_TYPES

        kind = token_type
        while kind not in STANDARD_TYPES and kind.parent is not None:
            kind = kind.parent
        css: str = STANDARD_TYPES.get(kind, "")
        # a span per run of spaces only weighs the page
        self[token_type] = css = "" if css == "w" else css
        return css


_TOKEN_CLASSES = _TokenClassCache()
# A line's share of a token that ended on the line before or starts on the next one.
_EMPTY_SPAN = re.compile(r'<span class="[^"]*"></span>')


@cache
def _text_lexer() -> Lexer:
    """The lexer of a block without a language, or whose language is not known."""
    from pygments.lexers.special import TextLexer

    return TextLexer(**_LEXER_OPTIONS)


def _lexer(code: str, lang: str | None, auto_detect: bool) -> tuple[Lexer, str]:
    """The Pygments lexer for a block and the language class hexo-util would give it."""
    if lang:
        return _named_lexer(lang.lower())
    if auto_detect and code.strip():
        from pygments.lexers import guess_lexer
        from pygments.util import ClassNotFound

        try:
            lexer = guess_lexer(code, **_LEXER_OPTIONS)
        except ClassNotFound:
            return _text_lexer(), PLAIN
        alias = lexer.aliases[0] if lexer.aliases else PLAIN
        return lexer, alias if alias != "text" else PLAIN
    return _text_lexer(), PLAIN


def token_lines(code: str, lang: str | None, auto_detect: bool = False) -> tuple[list[str], str]:
    """The code as HTML lines of Pygments token spans, each span closed on its line, and
    the language class of the block. Neighbouring tokens of one class share a span (as
    Pygments' own HtmlFormatter does): fewer elements to write and to sanitise.

    Tokens and span marks are joined first and escaped in one call (escaping goes character
    by character, so the pieces need not be escaped one by one); the marks are characters
    the code lacks, which escaping leaves as they are, turned into tags after it."""
    lexer, language = _lexer(code, lang, auto_detect)
    opening_mark, middle_mark, closing_mark = _unused_marks(code)
    classes = _TOKEN_CLASSES
    openings: dict[str, str] = {}
    out: list[str] = []
    run_class = ""
    for token_type, value in tokens(lexer, code):
        css = classes[token_type]
        if css != run_class:
            if run_class:
                out.append(closing_mark)
            if css:
                opening = openings.get(css)
                if opening is None:
                    opening = openings[css] = opening_mark + css + middle_mark
                out.append(opening)
            run_class = css
        if css and "\n" in value:  # a span per line: closed before each newline, reopened after
            out.append(value.replace("\n", f"{closing_mark}\n{openings[css]}"))
        else:
            out.append(value)
    if run_class:
        out.append(closing_mark)
    text = (
        html.escape("".join(out), quote=False)  # (quotes stay plain in text, as nh3 writes them)
        .replace(opening_mark, '<span class="')
        .replace(middle_mark, '">')
        .replace(closing_mark, "</span>")
    )
    return _EMPTY_SPAN.sub("", text).split("\n"), language


def _unused_marks(code: str) -> tuple[str, str, str]:
    """Three private-use characters that ``code`` does not contain."""
    unused = (chr(point) for point in range(0xE000, 0xF900) if chr(point) not in code)
    return next(unused), next(unused), next(unused)


def highlighter(settings: HighlightSettings) -> Callable[[str, str | None], str]:
    """The tags' ``TagContext.highlight`` seam: code -> HTML lines joined by ``\\n``."""

    def highlight(code: str, lang: str | None) -> str:
        return "\n".join(token_lines(code, lang, settings.auto_detect)[0])

    return highlight


def _replace_tabs(line: str, tab: str) -> str:
    # hexo-util replaces only the first run of tabs of a line
    return re.sub(r"\t+", lambda run: tab * len(run.group(0)), line, count=1)


def fence_caption(meta: str) -> str:
    """The figcaption HTML of a fence's words after its language, as Hexo 7 writes it."""
    meta = meta.strip()
    if not meta:
        return ""
    match = _CAPTION_URL.fullmatch(meta)
    if match is None:
        return f"<figcaption><span>{escape(meta)}</span></figcaption>"
    link = f'<a href="{escape(match[2])}">{escape(match[3] or "link")}</a>'
    return f"<figcaption><span>{escape(match[1])}</span>{link}</figcaption>"


class HeldOut:
    """Highlighted lines kept out of the sanitiser, then spliced into its output.

    The lines are the highlighter's own markup (``span`` with Pygments' token classes or
    ``line``, ``br``) around escaped token text, written as nh3 writes it (quotes plain,
    as ``token_lines`` leaves them; no-break spaces as ``&nbsp;``); in Hexo's table
    layout, the whole table around them (``in_figure``: its cells, ``pre`` and line
    numbers, the same for every post). The sanitiser sees in their place a placeholder,
    alone in its ``pre`` or ``code`` element (a table's in its figure, after the caption),
    made of a random ``token`` drawn for each render: a post cannot know it, so no text
    of a post can pass for one (``markup._splice`` puts the lines back only where a
    placeholder stands alone between two tags, a table only as its figure's content)."""

    def __init__(self) -> None:
        self.token = os.urandom(8).hex()
        self.pieces: list[str] = []
        self.in_figure: set[int] = set()  # the pieces that are a figure's table

    def hold(self, lines_html: str, in_figure: bool = False) -> str:
        """A placeholder for ``lines_html``; the HTML itself where the HTML parser would
        rewrite a character in it (CR, NUL), so the sanitiser's output stays the same.
        ``in_figure``: the HTML is a figure's table, after its caption if any (which the
        sanitiser's output must show: see ``markup._splice``)."""
        if not lines_html or "\r" in lines_html or "\0" in lines_html:
            return lines_html
        self.pieces.append(lines_html.replace("\xa0", "&nbsp;"))
        if in_figure:
            self.in_figure.add(len(self.pieces) - 1)
        return f"{self.token}-{len(self.pieces) - 1}-"

    def released(
        self, html_text: str, wanted: Callable[[int, int], bool] = lambda number, at: True
    ) -> str:
        """``html_text`` with the pieces ``wanted`` (by their number and the position of
        their placeholder; by default all) back in place of their placeholders, to go
        through the sanitiser after all."""

        def release(found: re.Match[str]) -> str:
            number = int(found[2])
            if found[1] != self.token or not wanted(number, found.start()):
                return found[0]
            return self.pieces[number]

        return _PLACEHOLDER.sub(release, html_text)


_PLACEHOLDER = re.compile(r"([0-9a-f]{16})-(\d+)-")


def _kept(lines_html: str) -> str:
    return lines_html


# tab_replace is written into the lines as it stands in _config.yml: held out only when
# it is spaces or tabs, so anything else in it still passes the sanitiser.
_PLAIN_TAB_REPLACE = re.compile(r"[ \t]*")


# hexo-util's line: <span class="line">…</span><br>, one after the other
_LINE_OPEN, _LINE_CLOSE = '<span class="line">', "</span><br>"
_LINE_BREAK = _LINE_CLOSE + _LINE_OPEN


def highlight_block(
    code: str,
    lang: str | None,
    settings: HighlightSettings,
    caption: str = "",
    held: HeldOut | None = None,
    *,
    table_held: bool = True,
) -> str:
    """One code block as hexo-util lays it out for these settings (``enable`` aside);
    ``caption`` is a ready ``<figcaption>``. With ``held``, the lines of the gutter and of
    the code are held out there and placeholders stand in their elements; in the table
    layout (``table_held``) the whole table, and a placeholder stands in the figure."""
    if settings.strip_indent:
        code = strip_indent(code)
    lines, language = token_lines(code, lang, settings.auto_detect)
    if settings.tab_replace:
        lines = [_replace_tabs(line, settings.tab_replace) for line in lines]
    hold = _kept
    if held is not None and _PLAIN_TAB_REPLACE.fullmatch(settings.tab_replace):
        hold = held.hold
    classes = ("hljs" if settings.hljs else "highlight") + f" {language}"
    wrap = settings.wrap or settings.line_number  # the gutter needs the table layout
    if not wrap:
        return f'<pre><code class="{classes}">' + hold("\n".join(lines)) + "</code></pre>"
    numbers = ""
    if settings.line_number:
        numbers = _LINE_OPEN + _LINE_BREAK.join(map(str, range(1, len(lines) + 1))) + _LINE_CLOSE
    if settings.hljs:
        # the code element's class names the language (sanitised): its lines held out
        code_cell = f'<pre><code class="{classes}">{hold("<br>".join(lines) + "<br>")}</code></pre>'
        table = table_html(numbers and hold(numbers), code_cell)
    else:
        code_lines = _LINE_OPEN + _LINE_BREAK.join(lines) + _LINE_CLOSE
        if held is not None and hold is not _kept and table_held:
            # the layout's own markup around the lines, the same whatever the code
            table = table_html(numbers, f"<pre>{code_lines}</pre>", tbody=True)
            table = held.hold(table, in_figure=True)
        else:
            table = table_html(numbers and hold(numbers), f"<pre>{hold(code_lines)}</pre>")
    return f'<figure class="highlight {language}">{caption}{table}</figure>'


def table_html(numbers: str, code_cell: str, tbody: bool = False) -> str:
    """hexo-util's table of a gutter (where ``numbers`` are given) and the code (a fenced
    block's or a ``codeblock`` tag's); with ``tbody``, as the HTML parser reads it (and so
    as the sanitiser writes it)."""
    gutter = f'<td class="gutter"><pre>{numbers}</pre></td>' if numbers else ""
    row = f'<tr>{gutter}<td class="code">{code_cell}</td></tr>'
    return f"<table><tbody>{row}</tbody></table>" if tbody else f"<table>{row}</table>"


def _table_fits(html_text: str) -> Callable[[int], bool]:
    """Whether a held-out table may stand at a position of Markdown's HTML: before the
    first tag that leaves the body's insertion mode (``_TABLE_CONTEXT``), and where the last
    ``<pre`` before it is closed (the sanitiser's escape of markup in code would end an
    open one at the table's first ``</pre>``, which a placeholder hides from it)."""
    before = len(html_text)
    openings: list[int] = []
    closings: list[int] = []
    for tag in _TABLE_CONTEXT.finditer(html_text):  # (one scan for the three)
        if tag[1] is not None:
            before = tag.start()
            break
        (openings if tag[2] is None else closings).append(tag.start())

    def fits(start: int) -> bool:
        if start >= before:
            return False
        last = bisect_left(openings, start) - 1
        if last < 0:
            return True
        closing = bisect_left(closings, openings[last])
        return closing < len(closings) and closings[closing] < start

    return fits


def highlight_code_blocks(
    html_text: str, settings: HighlightSettings, held: HeldOut | None = None
) -> str:
    """Highlight the code blocks of cmark's HTML (``<pre><code class="language-x">``).

    Runs after Markdown and before the sanitiser; the code is unescaped, tokenised and
    escaped again, so nothing in it becomes markup. Unchanged when ``enable`` is off.
    With ``held``, the highlighted lines are held out of the sanitiser (``HeldOut``), and
    a table a tag held out is put back where a held-out table may not stand."""
    if not settings.enable:
        return html_text
    table_fits = None  # (worked out for a body that needs it only)
    if held is not None and held.in_figure:  # tables the tags held out (a codeblock's)
        fits, in_figure = _table_fits(html_text), held.in_figure
        released = held.released(html_text, lambda number, at: number in in_figure and not fits(at))
        # where a table was put back the positions moved: worked out again if needed
        table_fits = fits if len(released) == len(html_text) else None
        html_text = released
    if "<pre><code" not in html_text:
        return html_text
    if table_fits is None:
        table_fits = _table_fits(html_text)

    def block(match: re.Match[str]) -> str:
        lang = match.group(1)
        lang = html.unescape(lang).split()[0] if lang and lang.strip() else None
        if lang is not None and not _SAFE_LANG.fullmatch(lang):
            lang = None
        caption = fence_caption(html.unescape(match.group(2) or "")) if lang else ""
        code = html.unescape(match.group(3))
        table_held = table_fits(match.start())
        # Hexo drops the newline that ends a fenced block's last line
        code = code.removesuffix("\n")
        return highlight_block(code, lang, settings, caption, held, table_held=table_held)

    return _CMARK_BLOCK.sub(block, html_text)
