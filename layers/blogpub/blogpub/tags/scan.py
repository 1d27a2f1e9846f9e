"""Finding tags in a post body as Hexo does, before Markdown runs.

Hexo hides fenced code first (its ``backtick_code_block`` filter), then Nunjucks sees
``{% %}`` tags, ``{{ }}`` variables and ``{# #}`` comments; inline code is protected
because Hexo escapes the braces inside every ``<code>`` element before Nunjucks runs.
Here the protected parts (fences, inline code spans, ``<code>`` elements, ``{% raw %}``
bodies, ``{{ }}``) become placeholders that keep their line breaks, so the tags found
outside them know their line, and ``restore`` puts the text back exactly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

# hexo/lib/plugins/filter/before_post_render/backtick_code_block.ts, without the trailing
# newlines it also consumes (they belong to the text around the fence).
_FENCE = re.compile(
    r"^((?:[^\S\r\n]*>){0,3}[^\S\r\n]*)(`{3,}|~{3,})[^\S\r\n]*((?:.*?[^`\s])?)[^\S\r\n]*\n"
    r"((?:[\s\S]*?\n)?)(?:(?:[^\S\r\n]*>){0,3}[^\S\r\n]*)\2[^\S\r\n]?(?=\n|$)",
    re.MULTILINE,
)
_CODE_ELEMENT = re.compile(r"<code[^<>]*>[\s\S]+?</code>")
_BACKTICKS = re.compile(r"`+")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_RAW_OPEN = re.compile(r"\{%-?\s*raw\s*-?%\}")
_RAW_CLOSE = re.compile(r"\{%-?\s*endraw\s*-?%\}")
_SPECIAL = re.compile(r"`|<code|\{[%#{]")
_TAG = re.compile(r"\{%([\s\S]*?)%\}")
# Nunjucks' lexer: a symbol runs until whitespace or one of these delimiters.
_WHITESPACE = " \n\t\r\u00a0"
_DELIMITERS = "()[]{}%*-+~/#,:|.<>=!"
_SYMBOL = re.compile(f"[^{re.escape(_WHITESPACE + _DELIMITERS)}]+")


class Protected:
    """The protected parts of one body, by placeholder number.

    A placeholder is a number between two private-use characters that the body does not
    contain, so no text of the post can pass for one."""

    def __init__(self, body: str) -> None:
        unused = (chr(code) for code in range(0xE000, 0xF900) if chr(code) not in body)
        self._open, self._close = next(unused), next(unused)
        self._placeholder = re.compile(f"{self._open}(\\d+)\n*{self._close}")
        self._opening = re.compile(f"{self._open}(\\d+)")
        self._texts: list[str] = []

    def only_hidden(self, line: str) -> bool:
        """Whether a line holds nothing but (the end of) a placeholder: a hidden fence's."""
        line = line.strip()
        return line.endswith(self._close) and (line == self._close or line[0] == self._open)

    def fence_before_blank_line(self, text: str, position: int) -> bool:
        """Whether a hidden fence comes in ``text`` after ``position`` before a blank line."""
        blank = _BLANK_LINE.search(text, position)
        for placeholder in self._opening.finditer(
            text, position, blank.start() if blank else len(text)
        ):
            if _FENCE.match(self._texts[int(placeholder.group(1))]):
                return True
        return False

    def hide(self, shown_as: str, original: str) -> str:
        """A placeholder for ``original`` (restored as ``shown_as``) with its line breaks."""
        self._texts.append(shown_as)
        return f"{self._open}{len(self._texts) - 1}" + "\n" * original.count("\n") + self._close

    def restore(self, text: str) -> str:
        """``text`` with every placeholder's text back, and those in that text (a fence
        hidden first can end up inside a code span hidden after it)."""
        return self._placeholder.sub(
            lambda match: self.restore(self._texts[int(match.group(1))]), text
        )


def protect(body: str, protected: Protected) -> str:
    """The body with code, raw bodies and ``{{ }}`` hidden and ``{# #}`` comments removed."""
    body = _FENCE.sub(lambda match: protected.hide(match.group(0), match.group(0)), body)
    pieces: list[str] = []
    position = 0
    while (found := _SPECIAL.search(body, position)) is not None:
        start = found.start()
        pieces.append(body[position:start])
        end, replacement = _protected_span(body, start, protected)
        pieces.append(replacement)
        position = end
    pieces.append(body[position:])
    return "".join(pieces)


def _protected_span(body: str, start: int, protected: Protected) -> tuple[int, str]:
    """Where the construct at ``start`` ends and what stands for it."""
    if body.startswith("`", start):
        run = _BACKTICKS.match(body, start)
        assert run is not None
        closing = _closing_backticks(body, run.end(), len(run.group(0)))
        if closing is None:
            return run.end(), run.group(0)
        span = body[start:closing]
        return closing, protected.hide(span, span)
    if body.startswith("<code", start):
        element = _CODE_ELEMENT.match(body, start)
        if element is None:
            return start + 1, "<"
        return element.end(), protected.hide(element.group(0), element.group(0))
    if body.startswith("{{", start):
        close = body.find("}}", start + 2)
        if close == -1:
            return start + 2, "{{"
        span = body[start : close + 2]
        return close + 2, protected.hide(span, span)
    if body.startswith("{#", start):
        close = body.find("#}", start + 2)
        if close == -1:
            return start + 2, "{#"
        span = body[start : close + 2]
        return close + 2, protected.hide("", span)
    raw = _RAW_OPEN.match(body, start)
    if raw is not None:
        raw_close = _RAW_CLOSE.search(body, raw.end())
        if raw_close is not None:
            span = body[start : raw_close.end()]
            return raw_close.end(), protected.hide(body[raw.end() : raw_close.start()], span)
    tag = _TAG.match(body, start)
    # A whole tag is skipped so that a backtick in its arguments opens no code span.
    return (tag.end(), tag.group(0)) if tag is not None else (start + 2, "{%")


def _closing_backticks(body: str, position: int, length: int) -> int | None:
    """The end of the backtick run of the same length that closes a code span, if one
    comes before the paragraph ends (CommonMark: a code span stays in its block)."""
    blank = _BLANK_LINE.search(body, position)
    limit = blank.start() if blank is not None else len(body)
    for run in _BACKTICKS.finditer(body, position, limit):
        if len(run.group(0)) == length:
            return run.end()
    return None


class TagToken(NamedTuple):
    """One ``{% ... %}`` in a (protected) body: where it is, its name, its argument text.
    (A tuple: a body's tags are made by the hundred, and again for a paired tag's body.)"""

    start: int
    end: int
    name: str
    arguments: str

    def shifted(self, offset: int) -> TagToken:
        """The same tag in a text that starts ``offset`` characters later."""
        return TagToken(self.start - offset, self.end - offset, self.name, self.arguments)


def tag_tokens(text: str) -> Iterator[TagToken]:
    """Every ``{% name args %}`` in order; ``{%-`` and ``-%}`` trim nothing here."""
    for match in _TAG.finditer(text):
        inside = match.group(1).strip(_WHITESPACE)
        inside = inside.removeprefix("-").removesuffix("-").strip(_WHITESPACE)
        name = _SYMBOL.match(inside)
        name_end = name.end() if name is not None else 0
        yield TagToken(match.start(), match.end(), inside[:name_end], inside[name_end:])


# hexo/lib/hexo/post.ts escapeAllSwigTags: a tag's name there runs to the first whitespace.
_HEXO_NAME = re.compile(r"[^\r\n\t\f\v ]+")
_OPENERS = re.compile(r"\{[%{#]")


def swallows_a_tag(text: str, token: TagToken) -> bool:
    """Whether the token's ``%}`` is a later tag's: its own opening ``{%`` lacks its
    ``}`` (an unclosed tag delimiter), so its arguments run on, as in Hexo."""
    return "{%" in text[token.start + 2 : token.end - 2]


def hexo_name(text: str, token: TagToken) -> str:
    """The tag's name as Hexo's escape step reads it (to decide that the tag takes a body)."""
    name = _HEXO_NAME.search(text, token.start + 2, token.end - 2)
    return name.group(0) if name is not None else ""


def unclosed_opener(text: str, start: int, end: int) -> int | None:
    """Where the first ``{%``, ``{{`` or ``{#`` that nothing closes is, in ``text[start:end]``
    (between tags: protect() hid the closed ``{{ }}``, ``{# #}`` and code)."""
    found = _OPENERS.search(text, start, end)
    return found.start() if found is not None else None


def split_args(text: str) -> list[str]:
    """Tag arguments as Hexo passes them: Nunjucks tokens joined until whitespace.

    A quote opens a string only where a token starts (so ``don't`` is one word); the
    string's quotes go and its backslash escapes apply; ``key:"a b"`` is ``key:a b``."""
    args: list[str] = []
    item = ""
    position = 0
    while position < len(text):
        char = text[position]
        if char in _WHITESPACE:
            if item:
                args.append(item.strip())
            item = ""
            position += 1
        elif char in "\"'":
            string, position = _string_token(text, position)
            item += string
        elif char in _DELIMITERS:
            item += char
            position += 1
        else:
            # A word runs to whitespace or a delimiter, quotes and all.
            word = _SYMBOL.match(text, position)
            assert word is not None
            item += word.group(0)
            position = word.end()
    if item:
        args.append(item.strip())
    return args


_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _string_token(text: str, position: int) -> tuple[str, int]:
    """Nunjucks' ``_parseString``: the string's value and the position after its quote."""
    quote = text[position]
    position += 1
    value = ""
    while position < len(text) and text[position] != quote:
        if text[position] == "\\" and position + 1 < len(text):
            value += _STRING_ESCAPES.get(text[position + 1], text[position + 1])
            position += 2
        else:
            value += text[position]
            position += 1
    return value, position + 1
