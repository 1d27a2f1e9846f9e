"""Math: ``$…$``, ``$$…$$`` and ``{% math %}…{% endmath %}`` to MathML, safe from Markdown.

``protect_math`` runs before Markdown: it finds the formulas, converts them with latex2mathml
(pure Python, imported only when a post has math) and leaves a placeholder Markdown cannot
touch, so ``\\{``, ``\\\\``, ``_`` and ``*`` reach the converter as written. ``restore_math``
puts the MathML back into Markdown's HTML.

Which ``$`` opens math follows pandoc's tex_math_dollars (as markdown-it-texmath does):
``$$`` opens display math; a single ``$`` opens inline math when not followed by a space,
and closes it when not preceded by a space and not followed by a digit (here: nor a letter,
so ``$HOME/$USER`` stays text). ``\\$`` is never a delimiter, inline math stays within a
paragraph, and nothing inside code (fences, spans, ``{% codeblock %}``), HTML tags,
autolinks, bare URLs, link targets or ``{% raw %}`` is math. Everything else stays as
written.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from xml.etree import ElementTree

PLACEHOLDER_STEM = "blogpubmath"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
# What the output may hold: latex2mathml copies some input into attributes and text
# (`\href`, `\style`, `\color`, `\text{<b>}`), so its output is rebuilt from these only.
MATHML_ELEMENTS = frozenset(
    {
        "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup",
        "mfrac", "msqrt", "mroot", "mstyle", "mpadded", "mphantom", "menclose", "mover",
        "munder", "munderover", "mtable", "mtr", "mtd", "mlabeledtr", "merror", "mfenced",
        "mmultiscripts", "mprescripts", "none", "semantics", "annotation",
    }
)  # fmt: skip
MATHML_ATTRIBUTES = frozenset(
    {
        "display", "accent", "accentunder", "columnalign", "columnlines", "columnspacing",
        "rowalign", "rowlines", "rowspacing", "fence", "form", "linebreak", "linethickness",
        "mathcolor", "mathbackground", "mathvariant", "mathsize", "maxsize", "minsize",
        "movablelimits", "notation", "separator", "separators", "stretchy", "symmetric",
        "width", "height", "depth", "lspace", "rspace", "largeop", "scriptlevel",
        "displaystyle", "frame", "framespacing", "equalrows", "equalcolumns", "columnspan",
        "rowspan", "open", "close", "voffset",
    }
)  # fmt: skip
TEX_ENCODING = "application/x-tex"  # the one value of an annotation's encoding
_SAFE_VALUE = re.compile(r"[\w .#%+-]*")


@dataclass(frozen=True)
class MathWarning:
    """A formula that did not convert: it is shown as code and the post still publishes."""

    line: int
    message: str


@dataclass(frozen=True)
class Formula:
    """One formula: its LaTeX as written, where it was, and its HTML (MathML, or
    ``<code>`` with the original text when it did not convert)."""

    latex: str
    display: bool
    line: int
    placeholder: str
    html: str
    warning: MathWarning | None = None


# `{% math %}` tags, and the spans where a `$` is never math (order matters: a fence wins
# over the code spans inside it).
_PROTECTED = re.compile(
    # where no alternative can start, one test instead of ten (the search was most of the time)
    r"""(?:(?=[{`<\]hfw])|^)(?:
      (?P<math>\{%-?\s*math\b[^%]*?-?%\}(?P<mathbody>.*?)\{%-?\s*endmath\s*-?%\})
    | (?P<fence>^[ \t]{0,3}(?P<mark>`{3,}|~{3,})[^\n]*\n
        (?:.*?\n)?[ \t]{0,3}(?P=mark)[ \t]*(?:\n|\Z))
    | (?P<codetag>\{%-?\s*(?P<codename>codeblock|code)\b.*?\{%-?\s*end(?P=codename)\s*-?%\})
    | (?P<raw>\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\})
    | (?P<codespan>(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))
    | (?P<autolink><[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>)
    | (?P<tag></?[A-Za-z][^<>]*>)
    | (?P<target>\]\([^)\s]*(?:\s+"[^"]*")?\))
    | (?P<refdef>^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S+)
    | (?P<url>(?:https?|ftp)://[^\s<>"')\]]+|www\.[^\s<>"')\]]+)
    )""",
    re.MULTILINE | re.DOTALL | re.VERBOSE,
)
_MATH_TAG = re.compile(r"\{%-?\s*math\b")  # how _PROTECTED's math alternative starts
# A formula opens at a "$" with a character after it that is not a space ("$$" included):
# with none (shell prompts, prices), none opens in any stretch between protected spans.
_DOLLAR_OPENS = re.compile(r"\$(?=\S)").search
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


# latex2mathml writes a bare "&" for the columns of `aligned` (not XML) but lays out
# `align*` as a table: the same rows and columns.
_ALIGNED = re.compile(r"\\(begin|end)\{aligned\}")


def convert(latex: str, display: bool) -> str:
    """MathML for a LaTeX formula; ValueError when latex2mathml cannot convert it."""
    import latex2mathml.converter

    source = latex
    latex = _ALIGNED.sub(lambda match: f"\\{match.group(1)}{{align*}}", latex)
    try:
        mathml: str = latex2mathml.converter.convert(
            latex, display="block" if display else "inline"
        )
    except Exception as error:  # latex2mathml raises many kinds of error on bad input
        raise ValueError(f"{type(error).__name__}: {error}") from error
    try:
        root = ElementTree.fromstring(mathml)
    except ElementTree.ParseError as error:
        raise ValueError(f"not well-formed MathML: {error}") from error
    return _serialise(root, top=True, source=source)


def _serialise(element: ElementTree.Element, top: bool = False, source: str = "") -> str:
    """The element as MathML markup made only of allowed elements and attributes, every
    text escaped; ValueError on any other element. The top ``math`` holds its formula in
    ``<semantics>`` with the TeX ``source`` as an annotation (kept for copy and for
    comparing with the TeX Hexo leaves as text; browsers do not render it)."""
    namespace, _, name = element.tag.rpartition("}")
    if namespace != "{" + MATHML_NS or name not in MATHML_ELEMENTS or (name == "math") != top:
        raise ValueError(f"unexpected element in the MathML: {name}")
    attributes = f' xmlns="{MATHML_NS}"' if top else ""
    for key, value in sorted(element.attrib.items()):
        if key in MATHML_ATTRIBUTES and _SAFE_VALUE.fullmatch(value):
            attributes += f' {key}="{html.escape(value)}"'
    inner = html.escape(element.text or "", quote=False)
    for child in element:
        inner += _serialise(child) + html.escape(child.tail or "", quote=False)
    if top:
        annotation = f'<annotation encoding="{TEX_ENCODING}">{html.escape(source, quote=False)}'
        one_row = len(element) == 1 and element[0].tag == f"{{{MATHML_NS}}}mrow"
        formula = inner if one_row and not (element.text or "").strip() else f"<mrow>{inner}</mrow>"
        inner = f"<semantics>{formula}{annotation}</annotation></semantics>"
    return f"<{name}{attributes}>{inner}</{name}>" if inner else f"<{name}{attributes} />"


def _render(latex: str, display: bool, line: int, placeholder: str) -> Formula:
    source = latex.strip()
    try:
        if not source:
            raise ValueError("empty formula")
        markup = convert(source, display)
    except ValueError as error:
        delimiter = "$$" if display else "$"
        shown = html.escape(f"{delimiter}{latex}{delimiter}", quote=False)
        return Formula(
            latex,
            display,
            line,
            placeholder,
            f"<code>{shown}</code>",
            MathWarning(line, f"formula not converted ({error}): {source[:80]}"),
        )
    return Formula(latex, display, line, placeholder, markup)


def _free_stem(body: str) -> str:
    """A placeholder stem that the body does not already contain."""
    stem = PLACEHOLDER_STEM
    while stem in body:
        stem += "x"
    return stem


def _closing_dollar(text: str, start: int) -> int:
    """The index of the `$` that closes inline math opened just before ``start``, or -1."""
    index = start
    while True:
        index = text.find("$", index)
        if index < 0:
            return -1
        if text[index - 1] == "\\":
            index += 1
            continue
        if text[index + 1 : index + 2] == "$":  # `$$` inside inline math: not a closer
            return -1
        after = text[index + 1 : index + 2]
        if text[index - 1].isspace() or (after and after.isalnum()):
            index += 1
            continue
        if _BLANK_LINE.search(text, start, index):
            return -1
        return index


def _find_math(text: str) -> list[tuple[int, int, str, bool]]:
    """(start, end, latex, display) of the dollar math in a stretch of unprotected text."""
    found = []
    index = 0
    while (index := text.find("$", index)) >= 0:
        if index and text[index - 1] == "\\":
            index += 1
            continue
        if text.startswith("$$", index):
            end = text.find("$$", index + 2)
            while end > 0 and text[end - 1] == "\\":
                end = text.find("$$", end + 1)
            latex = text[index + 2 : end] if end > 0 else ""
            if end < 0 or not latex.strip():
                index += 2
                continue
            found.append((index, end + 2, latex, True))
            index = end + 2
            continue
        after = text[index + 1 : index + 2]
        if not after or after.isspace():
            index += 1
            continue
        close = _closing_dollar(text, index + 1)
        if close < 0:
            index += 1
            continue
        found.append((index, close + 1, text[index + 1 : close], False))
        index = close + 1
    return found


def protect_math(body: str) -> tuple[str, tuple[Formula, ...]]:
    """The body with each formula replaced by a placeholder Markdown leaves alone, and the
    formulas (already converted; a formula that did not convert carries a warning)."""
    if _MATH_TAG.search(body) is None and ("$" not in body or not _DOLLAR_OPENS(body)):
        return body, ()  # no formula can start: the text as it is
    stem = _free_stem(body)
    formulas: list[Formula] = []
    pieces: list[str] = []

    def add(latex: str, display: bool, offset: int) -> str:
        placeholder = f"{stem}{len(formulas)}x"
        line = body.count("\n", 0, offset) + 1
        formulas.append(_render(latex, display, line, placeholder))
        return placeholder

    written = 0  # body[:written] is in pieces

    def replace(start: int, end: int, placeholder: str) -> None:
        nonlocal written
        pieces.extend((body[written:start], placeholder))
        written = end

    def scan(start: int, end: int) -> None:
        """Dollar math in ``body[start:end]``, text outside every protected span."""
        for first, last, latex, display in _find_math(body[start:end]):
            replace(start + first, start + last, add(latex, display, start + first))

    # past the last "$" and the last "{%" (where a math tag may start) nothing is math:
    # the protected spans after them need not be found
    last = max(body.rfind("$"), body.rfind("{%"))
    cursor = 0
    for match in _PROTECTED.finditer(body):
        if body.find("$", cursor, match.start()) >= 0:
            scan(cursor, match.start())
        if match.group("math") is not None:
            replace(match.start(), match.end(), add(match.group("mathbody"), True, match.start()))
        cursor = match.end()
        if cursor > last:
            break
    scan(cursor, len(body))
    if not formulas:
        return body, ()
    pieces.append(body[written:])
    return "".join(pieces), tuple(formulas)


_MARKUP_TAG = re.compile(r"<[^>]*>")


def restore_math(html_text: str, formulas: tuple[Formula, ...]) -> str:
    """Markdown's HTML with each placeholder replaced by its formula's HTML; a display
    formula alone in a paragraph replaces the paragraph. A placeholder inside a tag (an
    image's alt text, a title) gets the formula's source text, escaped, not markup."""
    for formula in formulas:
        if formula.placeholder not in html_text:
            continue
        delimiter = "$$" if formula.display else "$"
        source = html.escape(f"{delimiter}{formula.latex}{delimiter}")

        def in_tag(
            tag: re.Match[str], placeholder: str = formula.placeholder, text: str = source
        ) -> str:
            return tag.group(0).replace(placeholder, text)

        html_text = _MARKUP_TAG.sub(in_tag, html_text)
        if formula.display:
            alone = f"<p>{formula.placeholder}</p>"
            html_text = html_text.replace(alone, formula.html)
        html_text = html_text.replace(formula.placeholder, formula.html)
    return html_text


def math_warnings(formulas: tuple[Formula, ...]) -> list[MathWarning]:
    """The warnings of the formulas that did not convert, in body order."""
    return [formula.warning for formula in formulas if formula.warning is not None]
