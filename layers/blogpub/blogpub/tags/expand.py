"""``expand_tags``: every known tag of a body replaced by its HTML, before Markdown runs.

A paired tag's inner content is expanded first (Nunjucks renders nested tags inside
out), then trimmed as Hexo trims it and handed to the tag. Every tag's HTML is put on
one line; a block tag's line starts a line of its own (indented as the tag was, so it
stays in its list item) and a blank line follows it, so Markdown passes it through as
one HTML block. Anything that cannot be expanded stays visible as text, with a warning."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from blogpub.highlight import strip_indent
from blogpub.tags.markup import on_one_line, shown_as_text
from blogpub.tags.model import (
    PLACEHOLDER_COMMENT,
    TagArgumentError,
    TagCall,
    TagContext,
    TagResult,
    TagWarning,
    may_hold_tags,
)
from blogpub.tags.registry import REGISTRY, Pairing, TagSpec
from blogpub.tags.scan import (
    Protected,
    TagToken,
    hexo_name,
    protect,
    split_args,
    swallows_a_tag,
    tag_tokens,
    unclosed_opener,
)


def expand_tags(
    body: str, context: TagContext, registry: Mapping[str, TagSpec] = REGISTRY
) -> TagResult:
    """The body with its tags expanded; code, ``{% raw %}`` and ``{{ }}`` kept as written."""
    if not may_hold_tags(body):
        return TagResult(body)
    expansion = _Expansion(context, registry, Protected(body))
    text = expansion.protected.restore(expansion.expand(protect(body, expansion.protected), 1))
    # Inner content is expanded before its tag, so warnings are put back in body order.
    warnings = sorted(expansion.warnings, key=lambda warning: warning.line)
    return TagResult(text, tuple(warnings), tuple(expansion.pending), tuple(expansion.linked))


class _Expansion:
    def __init__(
        self, context: TagContext, registry: Mapping[str, TagSpec], protected: Protected
    ) -> None:
        self.context = context
        self.registry = registry
        self.protected = protected
        self.warnings: list[TagWarning] = []
        self.pending: list[str] = []
        self.linked: list[str] = []

    def warn(self, call: TagCall, message: str) -> None:
        self.warnings.append(TagWarning(call.name, call.line, message))

    def linked_post(self, target: str, *, resolved: bool) -> None:
        if target not in self.linked:
            self.linked.append(target)
        if not resolved and target not in self.pending:
            self.pending.append(target)

    def expand(
        self,
        text: str,
        first_line: int,
        nested: bool = False,
        enclosing: frozenset[str] = frozenset(),
        tokens: list[TagToken] | None = None,
    ) -> str:
        """``text`` (protected) with its tags expanded; ``first_line`` is its line in the body.

        In a paired tag's body (``nested``) a tag's HTML keeps its line breaks, as Nunjucks
        leaves them there before the outer tag dedents and renders its body: a note's
        closing line at column 0 then keeps that body from being dedented, as in Hexo.
        ``tokens``: the tags of ``text`` where they are known (a paired tag's body: the
        tags between it and its end tag, which are those its text holds)."""
        if tokens is None:
            tokens = list(tag_tokens(text))
        pieces: list[str] = []
        position = 0
        index = 0
        line, counted_to = first_line, 0
        while index < len(tokens):
            token = tokens[index]
            line += text.count("\n", counted_to, token.start)
            counted_to = token.start
            cut = None if nested else self._hexo_cut(text, tokens, index, position, line)
            if cut is not None:
                # Hexo's escape step drops the rest of the post here: so does the page.
                pieces.append(text[position:cut])
                return "".join(pieces)
            pieces.append(text[position : token.start])
            if swallows_a_tag(text, token):
                self._swallowed(token, text, line)
            spec = self.registry.get(token.name)
            closing = (
                _closing_index(tokens, index) if spec and spec.pairing != Pairing.SINGLE else None
            )
            if spec is None:
                pieces.append(self._unknown(text[token.start : token.end], token, line))
                position = token.end
            elif closing is None and spec.pairing == Pairing.PAIRED:
                self.warnings.append(
                    TagWarning(token.name, line, f"no {{% end{token.name} %}} closes it")
                )
                pieces.append(self._as_text(text[token.start : token.end]))
                position = token.end
            elif closing is None:
                call = TagCall(token.name, self._args(token), line)
                rendered = self._render(spec, call, text[token.start : token.end], nested)
                pieces.append(
                    _placed(rendered, spec.block, text, (token.start, token.end), self._in(nested))
                )
                position = token.end
            else:
                end = tokens[closing]
                inner = text[token.start : end.end]
                content_line = line + text.count("\n", token.start, token.end)
                tags_inside = [later.shifted(token.end) for later in tokens[index + 1 : closing]]
                content = self._trimmed(
                    self.expand(
                        text[token.end : end.start],
                        content_line,
                        True,
                        enclosing | {token.name},
                        tags_inside,
                    )
                )
                call = TagCall(token.name, self._args(token), line, content)
                rendered = self._render(spec, call, inner, nested)
                pieces.append(
                    _placed(
                        rendered,
                        spec.block,
                        text,
                        (token.start, end.end),
                        self._in(nested),
                        in_place=nested and token.name not in enclosing,
                    )
                )
                position = end.end
                index = closing
            index += 1
        if not nested and (opener := unclosed_opener(text, position, len(text))) is not None:
            self._left_out(text, opener, line + text.count("\n", counted_to, opener))
            return "".join(pieces) + text[position:opener]
        pieces.append(text[position:])
        return "".join(pieces)

    def _hexo_cut(
        self, text: str, tokens: Sequence[TagToken], index: int, position: int, line: int
    ) -> int | None:
        """Where Hexo's escape step (hexo/lib/hexo/post.ts escapeAllSwigTags) stops reading
        the post before or at ``tokens[index]``, with the warning; None where it reads on.

        It drops the rest of the post after a ``{%``, ``{{`` or ``{#`` that nothing closes,
        and after a tag whose delimiter is unclosed, when its name's ``end<name>`` is in the
        post but in no tag after it (it reads the tag as a body that never ends)."""
        token = tokens[index]
        opener = unclosed_opener(text, position, token.start)
        if opener is not None:
            self._left_out(text, opener, line - text.count("\n", opener, token.start))
            return opener
        name = hexo_name(text, token)
        end = f"end{name}"
        # (Hexo fails the build on an unclosed paired tag whose delimiter is whole: shown as text)
        if not name or not swallows_a_tag(text, token) or end not in text:
            return None
        if any(end in text[later.start + 2 : later.end - 2] for later in tokens[index + 1 :]):
            return None
        left_out = (
            f"no {{% {end} %}} follows, so Hexo reads the tag as a body that never ends and"
            " leaves out the tag and the rest of the post, and so does this page (the source"
            " file is unchanged)"
        )
        self._swallowed(token, text, line, left_out)
        return token.start

    def _swallowed(self, token: TagToken, text: str, line: int, then: str = "") -> None:
        """The warning for a tag whose ``{%`` lacks its own ``%}`` (an unclosed delimiter)."""
        last_line = line + text.count("\n", token.start, token.end)
        message = (
            f"an unclosed tag delimiter: {{% {token.name} lacks its %}}, so these lines, up to"
            " the next %}, were read as the tag's arguments, as Hexo reads them"
        )
        self.warnings.append(
            TagWarning(token.name, line, f"{message}; {then}" if then else message, last_line)
        )

    def _left_out(self, text: str, opener: int, line: int) -> None:
        """The warning for a ``{%``, ``{{`` or ``{#`` that nothing closes."""
        closer = {"{%": "%}", "{{": "}}", "{#": "#}"}[text[opener : opener + 2]]
        self.warnings.append(
            TagWarning(
                "",
                line,
                f"{text[opener : opener + 2]} without a {closer} after it: Hexo leaves out the"
                " rest of the post from there; so does this page (the source file is unchanged)",
            )
        )

    def _in(self, nested: bool) -> Protected | None:
        """In a tag's body, its hidden parts (None at the top level)."""
        return self.protected if nested else None

    def _unknown(self, source: str, token: TagToken, line: int) -> str:
        if token.name.startswith("end") and token.name[3:] in self.registry:
            message = f"{{% {token.name} %}} closes no {{% {token.name[3:]} %}}"
        elif token.name:
            message = f"unknown tag {token.name!r}: shown as text"
        else:
            message = "a tag without a name: shown as text"
        self.warnings.append(TagWarning(token.name, line, message))
        return self._as_text(source)

    def _as_text(self, source: str) -> str:
        return shown_as_text(self.protected.restore(source))

    def _args(self, token: TagToken) -> tuple[str, ...]:
        return tuple(split_args(self.protected.restore(token.arguments)))

    def _trimmed(self, content: str) -> str:
        """hexo's trimBody: the common indentation (strip-indent: tabs and spaces alike count
        one) and one leading and trailing newline go."""
        content = strip_indent(self.protected.restore(content))
        content = content.removeprefix("\n")
        return content.removesuffix("\n")

    def _render(self, spec: TagSpec, call: TagCall, source: str, nested: bool = False) -> str:
        try:
            rendered = spec.render(call, self.context, self)
            return _as_nunjucks_leaves_it(rendered) if nested else on_one_line(rendered)
        except TagArgumentError as error:
            self.warn(call, f"{call.name}: {error}; shown as text")
            return self._as_text(source)


_PRE_ELEMENT = re.compile(r"<pre\b.*?</pre>", re.DOTALL)


def _as_nunjucks_leaves_it(rendered: str) -> str:
    """A nested tag's HTML with its line breaks where Hexo's output has them (a note's
    ``</div>`` at column 0), but those inside ``<pre>`` written ``&#10;``: Hexo's code
    is a placeholder there, so a blank line in it cannot end the outer tag's HTML. A line
    break is marked's ``<br>`` with no newline after it, so a paragraph stays one line."""
    rendered = rendered.strip("\n").replace("<br />\n", "<br>")
    return _PRE_ELEMENT.sub(lambda pre: on_one_line(pre[0]), rendered)


# What may stand before a block on its line: indentation, list markers, quote markers.
_LINE_PREFIX = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+|>[ \t]?)*")


def _placed(
    rendered: str,
    block: bool,
    text: str,
    span: tuple[int, int],
    body: Protected | None = None,
    *,
    in_place: bool = False,
) -> str:
    """A block's HTML on a line of its own, then a blank line; inline HTML where it was,
    after an HTML comment when it starts its line, as Hexo's placeholder would be.

    In a tag's body (``body`` given) Hexo's HTML has no placeholder: an inline tag after a
    line of text continues that paragraph there, so it gets no comment; and a block is put
    just where it was (``in_place``), unless it has the name of a tag around it: Hexo's
    escape step then ends the outer tag's placeholder at the inner end tag, so the text
    after it is Markdown of its own, as after a blank line."""
    start, end = span
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    if not block:
        # (after a list or quote marker cmark would also wrap it in newlines: left as it is;
        # in a tag's body too, where Hexo's fences are already placeholders, so that an
        # <img> line does not open an HTML block that swallows the fence after it)
        starts_line = not before.strip(" \t")
        if starts_line and body is not None:
            previous = text[text.rfind("\n", 0, max(line_start - 1, 0)) + 1 : line_start]
            # (after anything but a line of text, HTML, another tag, a heading, a fence, it
            # starts a block, which may run on over a fence after it: the comment ends it)
            starts_line = (
                not previous.strip()
                or body.only_hidden(previous)
                or previous.lstrip().startswith(("<", "{%", "#"))
            )
        return PLACEHOLDER_COMMENT + rendered if starts_line else rendered
    if in_place and (body is None or not body.fence_before_blank_line(text, end)):
        # Nunjucks puts a tag's HTML where the tag was, nothing around it (but a fence that
        # its HTML block would run over is code in Hexo, a placeholder there: not here)
        if before and not before.strip() and _in_list_item(text, line_start, before):
            # marked keeps the HTML's lines at column 0 in the list item, cmark would end it
            return rendered.replace("\n", "\n" + before)
        return rendered
    if _LINE_PREFIX.fullmatch(before):
        # Alone on its line, or first in a list item or quote: an HTML block starts there.
        # Tabs stay tabs (a tab-indented body then dedents as one), markers become spaces.
        opening, indent = "", "".join(c if c == "\t" else " " for c in before)
    else:
        indent = before[: len(before) - len(before.lstrip())]
        opening = "\n" + indent
    quote = ">" * before.count(">")
    if quote:
        # An empty quote line ends the HTML block and keeps the quote going.
        rest_of_line = "" if text.startswith("\n", end) else f"\n{quote} "
        return opening + rendered + f"\n{quote}" + rest_of_line
    closing = "\n" if text.startswith("\n", end) else "\n\n" + indent
    return opening + rendered + closing


_LIST_MARKER = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


def _in_list_item(text: str, line_start: int, indent: str) -> bool:
    """Whether the line at ``line_start`` (indented ``indent``) is in a list item whose
    marker stands at column 0: the nearest less indented line before it is that marker."""
    while line_start > 0:
        line_start = text.rfind("\n", 0, line_start - 1) + 1
        line = text[line_start : text.find("\n", line_start)]
        if line.strip() and len(line) - len(line.lstrip()) < len(indent):
            return _LIST_MARKER.match(line) is not None
    return False


def _closing_index(tokens: Sequence[TagToken], opening: int) -> int | None:
    """The ``{% endname %}`` that closes ``tokens[opening]``, same-name tags nesting."""
    name = tokens[opening].name
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index].name == name:
            depth += 1
        elif tokens[index].name == f"end{name}":
            depth -= 1
            if depth == 0:
                return index
    return None
