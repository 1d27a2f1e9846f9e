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
A state keeps one such pattern per character a token starts with (letters share one, as
do digits): the rules that cannot start with that character (``_Start``, read from the
rule's parsed pattern) are left out, so ``re`` tries fewer alternatives at each position.
The rules left in keep their order, and so Pygments' choice. Characters other than
printable ASCII, tab, CR and LF get the pattern of all the rules.
tests/unit/test_lexing.py compares every token with Pygments' on the corpus and on
committed samples; the same comparison over all 600 of Pygments' lexers (the samples
concatenated) differs only for XQuery, whose Pygments lexer keeps state between calls and
is left to Pygments anyway.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Callable, Iterator
from functools import cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from pygments.token import _TokenType

Token = tuple["_TokenType", str]
Rule = tuple[Callable[[str, int], "re.Match[str] | None"], Any, Any]
# Some rules of a state: their combined matcher (None: try them one by one) and the rule
# each marker group ends.
Matcher = tuple[Callable[[str, int], "re.Match[str] | None"] | None, dict[int, Rule], list[Rule]]

# A group referred to by number inside a rule: \2 (renumbered), or (?(1)…) (not combined).
_REFERENCE = re.compile(r"\\(?:[0-7]{3}|([1-9][0-9]?)|.)|\[\]?(?:\\.|[^\]\\])*\]", re.DOTALL)
_CONDITIONAL = re.compile(r"\(\?\(")
MAX_BACK_REFERENCE = 99  # re's \N names groups 1-99 only
# A rule's leading global flags, as in Bash's "(?s)\$?\"…": legal only at a pattern's start.
_GLOBAL_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")


# Combining a lexer's states (a pattern per state and first character met) costs 5-35 ms
# for the corpus's languages (Bash 9, SCSS 11, C 22, JavaScript 28, Python 35, one corpus
# pass each, on a machine where the single pattern per state of before cost 5, 24, 20, 30
# and 55 and lexed a half to twice slower) and saves 0.3-2.5 µs a character (SCSS's
# Pygments loop is ten times slower than its combined patterns, JavaScript's twice): a
# lexer runs on Pygments' loop until that loop has taken this long for it, about as long
# as combining would take (ski rental: a bounded multiple of the better choice's cost,
# whichever way its code comes), so a post with a short snippet pays nothing.
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


class _States(dict[str, "_State"]):
    """A lexer class's states, each made when the driver first enters it (compiling
    costs more than lexing a short block: states a post never reaches cost nothing)."""

    def __init__(self, rules: dict[str, list[Rule]], flags: int, c_family: bool) -> None:
        super().__init__()
        self.rules, self.flags = rules, flags
        self.c_family = c_family  # CFamilyLexer's renaming follows the loop
        self.loop_seconds = 0.0  # time Pygments' loop has taken for the lexer so far

    def __missing__(self, name: str) -> _State:
        state = self[name] = _State(self.rules[name], self.flags)
        return state


# The characters whose rules are picked by their first character: for these the parsed
# patterns tell exactly which classes, categories and case foldings hold them. Any other
# character gets every rule, and the end of the text ("") the rules that can match empty.
_PICKED = frozenset(string.ascii_letters + string.digits + string.punctuation + " \t\n\r")
_LETTERS = frozenset(string.ascii_letters)
# Characters that share one pattern: a letter gets the rules of every word character (one
# pattern per letter would compile the long keyword lists once per letter, for little
# speed), a digit those of every digit.
_GROUPS = {char: group for group in (string.ascii_letters + "_", string.digits) for char in group}


class _State:
    """One state's rules, and per character a token may start with, the ``Matcher`` of
    the rules that can start with it (made when the driver first meets the character)."""

    def __init__(self, rules: list[Rule], flags: int) -> None:
        self.rules, self.flags = rules, flags
        self.by_char: dict[str, Matcher] = {}
        self._starts: list[_Start | None] | None = None
        self._by_rules: dict[tuple[int, ...], Matcher] = {}

    def at(self, char: str) -> Matcher:
        """The ``Matcher`` for a token starting with ``char`` ("" at the end of the text)."""
        if self._starts is None:
            self._starts = [_Start.of(rule, self.flags) for rule in self.rules]
        if char in _PICKED or not char:
            group = _GROUPS.get(char, char) or ("",)
            chosen = tuple(
                index
                for index, start in enumerate(self._starts)
                if start is None or any(map(start.may_start, group))
            )
        else:
            chosen = tuple(range(len(self.rules)))
        matcher = self._by_rules.get(chosen)
        if matcher is None:
            rules = [self.rules[index] for index in chosen]
            # no rule at all: no pattern either (an empty one would match)
            matcher = _state(rules, self.flags) if rules else (None, {}, [])
            self._by_rules[chosen] = matcher
        self.by_char[char] = matcher
        return matcher


class _Start:
    """What a rule's match can start with: the characters of ``_PICKED`` (read from the
    first nodes of its parsed pattern), and whether it can match the empty string."""

    def __init__(self, chars: frozenset[str], nullable: bool) -> None:
        self.chars, self.nullable = chars, nullable

    @staticmethod
    def of(rule: Rule, flags: int) -> _Start | None:
        """A rule's start; None where its pattern does not parse (it is then always tried)."""
        return _Start.of_pattern(rule[0].__self__.pattern, flags)  # type: ignore[attr-defined]

    @classmethod
    @cache  # Pygments' include() puts one rule in several states, and lexers share rules
    def of_pattern(cls, pattern: str, flags: int) -> _Start | None:
        try:
            parsed = sre_parse.parse(pattern, flags)
        except (re.error, RecursionError):
            return None
        nodes: list[tuple[Any, Any, bool]] = []
        nullable = _first_nodes(parsed, bool(parsed.state.flags & re.IGNORECASE), nodes)
        chars: set[str] = set()
        for op, argument, ignore_case in nodes:
            chars |= _node_chars(op, argument, ignore_case)
        return cls(frozenset(chars), nullable)

    def may_start(self, char: str) -> bool:
        """Whether a match can start with ``char``: one of ``_PICKED``, or "" (the end)."""
        return self.nullable or char in self.chars


def _node_chars(op: Any, argument: Any, ignore_case: bool) -> frozenset[str] | set[str]:
    """The characters of ``_PICKED`` a first node can take (more where folding leaves it
    open, never fewer)."""
    if op is sre.LITERAL:  # a class of one
        return _class_chars([(sre.LITERAL, argument)], ignore_case)
    if op is sre.NOT_LITERAL:
        return _class_chars([(sre.NEGATE, None), (sre.LITERAL, argument)], ignore_case)
    if op is sre.IN:
        return _class_chars(argument, ignore_case)
    return _PICKED  # ANY, or a node read as "anything"


def _first_nodes(items: Any, ignore_case: bool, nodes: list[tuple[Any, Any, bool]]) -> bool:
    """Add to ``nodes`` the nodes a match of the sequence ``items`` can start with; whether
    the whole sequence can match the empty string."""
    for op, argument in items:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY):
            nodes.append((op, argument, ignore_case))
            return False
        if op is sre.BRANCH:
            nullable = False
            for branch in argument[1]:
                nullable |= _first_nodes(branch, ignore_case, nodes)
        elif op is sre.SUBPATTERN:
            _, added, removed, pattern = argument
            scoped = (ignore_case or bool(added & re.IGNORECASE)) and not removed & re.IGNORECASE
            nullable = _first_nodes(pattern, scoped, nodes)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            nullable = _first_nodes(argument[2], ignore_case, nodes) or argument[0] == 0
        elif op is sre.ATOMIC_GROUP:
            nullable = _first_nodes(argument, ignore_case, nodes)
        elif op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            nullable = True  # takes no character: the next node tells
        else:  # a back-reference or anything else: it may start with any character
            nodes.append((sre.ANY, None, ignore_case))
            nullable = True
        if not nullable:
            return False
    return True


_CATEGORIES: dict[Any, Callable[[str], bool]] = {
    sre.CATEGORY_DIGIT: str.isdigit,
    sre.CATEGORY_NOT_DIGIT: lambda char: not char.isdigit(),
    sre.CATEGORY_SPACE: str.isspace,
    sre.CATEGORY_NOT_SPACE: lambda char: not char.isspace(),
    sre.CATEGORY_WORD: lambda char: char.isalnum() or char == "_",
    sre.CATEGORY_NOT_WORD: lambda char: not (char.isalnum() or char == "_"),
}


def _class_chars(items: list[tuple[Any, Any]], ignore_case: bool) -> set[str]:
    """The characters of ``_PICKED`` that may be in the class ``items`` (a ``[...]``,
    ``\\d``, ``\\s``...): of a negated class, those no item surely holds."""
    held: set[str] = set()  # surely in an item
    open_: set[str] = set()  # in an item or not, as case folding goes
    negated = bool(items) and items[0][0] is sre.NEGATE
    for op, argument in items[1:] if negated else items:
        if op is sre.LITERAL or op is sre.RANGE:
            low, high = (argument, argument) if op is sre.LITERAL else argument
            if low <= 0x7F:  # (a range past ASCII holds none of them)
                held.update(char for char in _PICKED if low <= ord(char) <= high)
            if ignore_case:
                if high > 0x7F:  # re folds a few letters past ASCII to ASCII ones (K to k)
                    open_ |= _LETTERS
                else:
                    held.update(
                        char
                        for char in _LETTERS
                        if low <= ord(char.lower()) <= high or low <= ord(char.upper()) <= high
                    )
        elif op is sre.CATEGORY and argument in _CATEGORIES:
            held.update(filter(_CATEGORIES[argument], _PICKED))
        else:
            open_ |= _PICKED
    return set(_PICKED - held) if negated else held | open_


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


def _state(rules: list[Rule], flags: int) -> Matcher:
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
    end = len(text)
    stack = ["root"]
    state = states["root"]
    by_char = state.by_char
    while True:
        char = text[pos : pos + 1]
        combined, by_group, rules = by_char.get(char) or state.at(char)
        rule: Rule | None = None
        if combined is not None:
            found = combined(text, pos)
            if found is not None:
                rule = by_group[found.lastindex]  # type: ignore[index]
                rexmatch, action, new_state = rule
                if action is not None:
                    if type(action) is _TokenType:
                        yield action, found[0]
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
            if pos >= end:
                return
            if char == "\n":  # at the end of a line, back to "root"
                stack = ["root"]
                state = states["root"]
                by_char = state.by_char
                yield Whitespace, "\n"
            else:
                yield Error, char
            pos += 1
            continue
        if new_state is not None:  # (the rule's: set whichever way it was found)
            _transition(stack, new_state)
            state = states[stack[-1]]
            by_char = state.by_char


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
