"""A faster driver for Pygments' ``RegexLexer``: the same tokens from fewer regex calls.

Pygments tries a state's rules one by one at each position, a Python call per rule, until
one matches. Here each state's rules are joined into one alternation, ``(?:r0)()|(?:r1)()|…``:
Python's ``re`` tries alternatives left to right at one position and takes the first that
matches, which is Pygments' rule, so one call in C finds the rule Pygments would pick. The
rule is known from the group that closed last (``lastindex``: the empty group after it).
A rule whose action is a callback (``bygroups``, ``using``…) gets the match of its own
regex, so the callback sees exactly what Pygments would give it.

Lexers the driver cannot reproduce keep Pygments' own loop: those that override
``get_tokens_unprocessed`` (``ExtendedRegexLexer``, ``DelegatingLexer``…) or
``get_tokens``, and lexers with filters. The C family's override only renames the C
library's type names after Pygments' loop: the driver runs its states and does the same.
A state whose rules cannot share one pattern (a back-reference past group 99, a
conditional group, a verbose lexer, a pattern ``re`` will not nest) is tried rule by
rule, as Pygments does; back-references are renumbered and leading global flags scoped.
tests/unit/test_lexing.py compares every token with Pygments' on the corpus and on
committed samples; the same comparison over all 600 of Pygments' lexers (the samples
concatenated) differs only for XQuery, whose Pygments lexer keeps state between calls and
is left to Pygments anyway.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from pygments.token import _TokenType

Token = tuple["_TokenType", str]
Rule = tuple[Callable[[str, int], "re.Match[str] | None"], Any, Any]
# One state: its combined matcher (None: try rule by rule) and the rule each marker group ends.
State = tuple[Callable[[str, int], "re.Match[str] | None"] | None, dict[int, Rule], list[Rule]]

# A group referred to by number inside a rule: \2 (renumbered), or (?(1)…) (not combined).
_REFERENCE = re.compile(r"\\(?:[0-7]{3}|([1-9][0-9]?)|.)|\[\]?(?:\\.|[^\]\\])*\]", re.DOTALL)
_CONDITIONAL = re.compile(r"\(\?\(")
MAX_BACK_REFERENCE = 99  # re's \N names groups 1-99 only
# A rule's leading global flags, as in Bash's "(?s)\$?\"…": legal only at a pattern's start.
_GLOBAL_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")


# Combining a lexer's states costs 1-35 ms (SCSS 9, JavaScript 34 on the corpus) and saves
# 0.3-2.5 µs a character (SCSS's Pygments loop is ten times slower than its combined
# pattern, JavaScript's twice): a lexer runs on Pygments' loop until that loop has taken
# this long for it, as long as combining would take (ski rental: at most twice the better
# choice's cost, whichever way its code comes), so a post with a short snippet pays nothing.
COMBINE_AFTER_SECONDS = 0.010


def tokens(lexer: Lexer, code: str) -> Iterator[Token]:
    """``lexer.get_tokens(code)``: the same (token type, text) pairs, faster where it can."""
    states = _states(lexer.__class__)
    if states is not None and states.loop_seconds < COMBINE_AFTER_SECONDS:
        return _timed(states, lexer.get_tokens(code))
    return combined_tokens(lexer, code)


def _timed(states: _States, stream: Iterator[Token]) -> Iterator[Token]:
    """``stream``, its time from first token to last (the reader's share included, which
    is of the same size whichever loop lexes) added to ``states.loop_seconds``."""
    started = time.perf_counter()
    yield from stream
    states.loop_seconds += time.perf_counter() - started


def combined_tokens(lexer: Lexer, code: str) -> Iterator[Token]:
    """``lexer.get_tokens(code)`` by the combined patterns wherever the lexer allows them."""
    states = _states(lexer.__class__)
    if states is None or lexer.filters:
        pygments_tokens: Iterator[Token] = lexer.get_tokens(code)
        return pygments_tokens
    text = lexer._preprocess_lexer_input(code)  # Pygments' own stripnl, tabsize, ensurenl…
    if states.c_family:
        return _c_library_types(lexer, _unprocessed(lexer, states, text))
    return _unprocessed(lexer, states, text)


def _c_library_types(lexer: Any, stream: Iterator[Token]) -> Iterator[Token]:
    """CFamilyLexer.get_tokens_unprocessed after Pygments' loop: a name of a type of the
    C library (of the kinds the lexer's options turn on) becomes ``Keyword.Type``."""
    from pygments.token import Keyword, Name

    types: set[str] = set()
    for option, names in (
        ("stdlibhighlighting", "stdlib_types"),
        ("c99highlighting", "c99_types"),
        ("c11highlighting", "c11_atomic_types"),
        ("platformhighlighting", "linux_types"),
    ):
        if getattr(lexer, option):
            types.update(getattr(lexer, names))
    for token_type, value in stream:
        yield (Keyword.Type if token_type is Name and value in types else token_type), value


class _States(dict[str, State]):
    """A lexer class's states, each combined when the driver first enters it (compiling
    costs more than lexing a short block: states a post never reaches cost nothing)."""

    def __init__(self, rules: dict[str, list[Rule]], flags: int, c_family: bool) -> None:
        super().__init__()
        self.rules, self.flags = rules, flags
        self.c_family = c_family  # CFamilyLexer's renaming follows the loop
        self.loop_seconds = 0.0  # time Pygments' loop has taken for the lexer so far

    def __missing__(self, name: str) -> State:
        state = self[name] = _state(self.rules[name], self.flags)
        return state


@cache
def _states(lexer_class: Any) -> _States | None:
    """A lexer class's states for the driver; None where Pygments' own loop must run."""
    from pygments.lexer import Lexer, RegexLexer

    loop = lexer_class.get_tokens_unprocessed
    c_family = loop.__qualname__ == "CFamilyLexer.get_tokens_unprocessed" and (
        loop.__module__ == "pygments.lexers.c_cpp"
    )
    if (
        not issubclass(lexer_class, RegexLexer)
        or (loop is not RegexLexer.get_tokens_unprocessed and not c_family)
        or lexer_class.get_tokens is not Lexer.get_tokens
        or lexer_class._preprocess_lexer_input is not Lexer._preprocess_lexer_input
        or "_tokens" not in lexer_class.__dict__  # processed when its first lexer is made
    ):
        return None
    return _States(lexer_class._tokens, lexer_class.flags, c_family)  # Pygments' flags


def _state(rules: list[Rule], flags: int) -> State:
    patterns = [rexmatch.__self__.pattern for rexmatch, _, _ in rules]  # type: ignore[attr-defined]
    if flags & re.VERBOSE or any(_CONDITIONAL.search(pattern) for pattern in patterns):
        return None, {}, rules
    by_group: dict[int, Rule] = {}
    alternatives = []
    group = 1
    for pattern, rule in zip(patterns, rules, strict=True):
        renumbered = _renumbered(_scoped(pattern), group - 1)
        if renumbered is None:
            return None, {}, rules
        group += rule[0].__self__.groups  # type: ignore[attr-defined]
        by_group[group] = rule
        # The empty group closes last, so lastindex names the rule; at the end, it leaves
        # the rule's first character to re's quick test of each alternative's start.
        alternatives.append(f"(?:{renumbered})()")
        group += 1
    try:
        combined = re.compile("|".join(alternatives), flags)
    except re.error:  # a pattern Python will not nest: Pygments' loop for this state
        return None, {}, rules
    return combined.match, by_group, rules


def _scoped(pattern: str) -> str:
    """``(?s)rest`` as ``(?s:rest)``: the same flags, over the same whole rule."""
    flags = _GLOBAL_FLAGS.match(pattern)
    if flags is None:
        return pattern
    end = "\n)" if "x" in flags[1] else ")"  # a verbose rule's last comment ends at a newline
    return f"(?{flags[1]}:{pattern[flags.end() :]}{end}"


def _renumbered(pattern: str, outer: int) -> str | None:
    """A rule's ``\\N`` back-references, as numbered after the ``outer`` groups before it;
    None past group 99, which ``\\N`` cannot name (``\\123`` is an octal escape)."""
    if "\\" not in pattern:
        return pattern
    past_99 = False

    def renumber(found: re.Match[str]) -> str:
        nonlocal past_99
        if found[1] is None:
            return found[0]
        number = int(found[1]) + outer
        past_99 |= number > MAX_BACK_REFERENCE
        return f"(?:\\{number})"

    renumbered = _REFERENCE.sub(renumber, pattern)
    return None if past_99 else renumbered


def _unprocessed(lexer: Lexer, states: _States, text: str) -> Iterator[Token]:
    """RegexLexer.get_tokens with the rule found by one combined match (and so without the
    positions its get_tokens_unprocessed yields and get_tokens drops)."""
    from pygments.token import Error, Whitespace, _TokenType

    pos = 0
    stack = ["root"]
    combined, by_group, rules = states["root"]
    while True:
        rule: Rule | None = None
        if combined is not None:
            found = combined(text, pos)
            if found is not None:
                rule = by_group[found.lastindex]  # type: ignore[index]
                rexmatch, action, new_state = rule
                if action is not None:
                    if type(action) is _TokenType:
                        yield action, found.group()
                    else:
                        for _, token_type, value in action(lexer, rexmatch(text, pos)):
                            yield token_type, value
                pos = found.end()
        else:
            for rexmatch, action, new_state in rules:
                match = rexmatch(text, pos)
                if match:
                    rule = rexmatch, action, new_state
                    if action is not None:
                        if type(action) is _TokenType:
                            yield action, match.group()
                        else:
                            for _, token_type, value in action(lexer, match):
                                yield token_type, value
                    pos = match.end()
                    break
        if rule is None:
            if pos >= len(text):
                return
            if text[pos] == "\n":  # at the end of a line, back to "root"
                stack = ["root"]
                combined, by_group, rules = states["root"]
                yield Whitespace, "\n"
            else:
                yield Error, text[pos]
            pos += 1
            continue
        if rule[2] is not None:
            _transition(stack, rule[2])
            combined, by_group, rules = states[stack[-1]]


def _transition(stack: list[str], new_state: Any) -> None:
    """Pygments' state change after a rule with a new state, on ``stack`` in place."""
    if isinstance(new_state, tuple):
        for state in new_state:
            if state == "#pop":
                if len(stack) > 1:
                    stack.pop()
            elif state == "#push":
                stack.append(stack[-1])
            else:
                stack.append(state)
    elif isinstance(new_state, int):  # pop, but keep at least one state on the stack
        if abs(new_state) >= len(stack):
            del stack[1:]
        else:
            del stack[new_state:]
    elif new_state == "#push":
        stack.append(stack[-1])
    else:
        raise AssertionError(f"wrong state def: {new_state!r}")
