"""The combined-pattern driver gives exactly Pygments' tokens, block for block."""

from __future__ import annotations

import html
import re

import pytest
from blogpub import lexing
from blogpub.highlight import _CMARK_BLOCK, _lexer
from blogpub.lexing import _renumbered, _scoped, _Start, _state, _states, combined_tokens, tokens
from blogpub.markup import to_html
from pygments.lexer import RegexLexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Keyword, String, Text

from tests.conftest import REPO

CORPUS = REPO.parent / "shared" / "corpus"

# Our own samples, one or more per language the corpus uses, with the rules that are hard
# to combine: back-references (Bash heredocs), leading (?s) flags, callbacks, Error tokens,
# a newline that resets the state, f-strings, nested languages.
SAMPLES: dict[str, str] = {
    "bash": 'cat <<EOF\nhello $USER ${HOME:-/x}\nEOF\nfor i in $(seq 3); do echo "$i" `date`; done'
    "\nx=$((1 + 2)) # sum\nif [[ -f ~/.rc ]]; then source ~/.rc; fi\n",
    "sh": "cat <<-'END'\n\tliteral $x\n\tEND\necho 'a' \"b\\\"c\" $'d\\n' > /dev/null 2>&1 &\n",
    "js": "const re = /a[/]b/g; let s = `t ${x + `n${y}`}`;\nclass A extends B { #p = 1; get q() "
    "{ return this.#p ?? 0x1F; } }\n/* c */ // d\nlabel: for (;;) break label;\n",
    "javascript": "import x, { y as z } from 'm';\nexport default async function* g() "
    "{ yield* await h?.(1_000n); }\n",
    "typescript": "type T<K extends keyof U> = { [P in K]?: U[P] };\nenum E { A = 1 }\n"
    "function f(this: Window, ...a: number[]): void {}\n",
    "python": "f\"{x!r:>{w}} {{lit}} {y['k']}\"\n@dec(1)\nasync def f(a, /, *b, c: int = 0, **d) "
    '-> "T":\n    """doc"""\n    return [i for i in b if i] or None\nmatch p:\n'
    "    case [x, *_]: pass\nfrom . import (a,\n  b)\nprint(0o17, 1e-3j, b'x', r'\\d')\n",
    "c": '#include <stdio.h>\n#define M(x) ((x) * 2)\nint main(void) { char *s = "a\\n"; '
    "return M(1) /* c */; } // e\n",
    "cpp": "template <typename T> auto f(T&& t) -> decltype(t) { return std::forward<T>(t); }\n"
    'auto s = R"(raw)"s; namespace n::m {}\n',
    "html": "<!DOCTYPE html>\n<div class=\"a\" data-x='1'>&amp; <b>t</b></div>\n"
    "<script>if (a < b) alert(1);</script>\n<style>p { color: red; }</style>\n<!-- c -->\n",
    "xml": '<?xml version="1.0"?>\n<a xmlns:x="u"><![CDATA[ <raw> ]]><x:b c="d"/></a>\n',
    "css": "@media (max-width: 600px) { .a > b::before { content: '\\201C'; margin: -1.5em "
    "!important; } }\n#id:hover { color: #fff; }\n",
    "scss": "$c: red;\n@mixin m($a: 1px) { border: $a solid $c; }\n.a { &:hover { @include m; } "
    "// c\n}\n",
    "less": "@c: #333;\n.m(@a) { width: ~'calc(100% - @{a})'; }\n.b { .m(2px); color: @c; }\n",
    "sass": "$c: red\n=m($a)\n  border: $a\n.a\n  +m(1px)\n  color: $c\n",
    "yaml": "key: value\nlist:\n  - a\n  - {b: 1, c: [2, 3]}\nblock: |\n  text\n  more\n"
    "anchor: &x 1\nref: *x\n# c\n",
    "json": '{"a": [1, 2.5e3, true, null], "b": {"c": "d\\u0041"}}\n',
    "json5": "{ a: 1, // c\n  'b': Infinity, c: +0x1F, }\n",
    "sql": "SELECT a.id, COUNT(*) AS n FROM t a LEFT JOIN u ON a.id = u.a_id WHERE x LIKE 'y%'"
    " GROUP BY 1 HAVING n > 2; -- c\n/* d */ INSERT INTO t VALUES (1, 'it''s');\n",
    "cypher": "MATCH (a:Person {name: 'x'})-[:KNOWS*1..3]->(b) WHERE a.age > 30 RETURN b "
    "LIMIT 5 // c\n",
    "dart": "void main() async { final s = 'a ${b.c} \\$d'; await for (var e in st) print(e); }\n"
    "@override\nclass A<T> extends B with C {}\n",
    "nasm": "section .text\nglobal _start\n_start: mov eax, [ebx+4*ecx] ; c\n"
    "  db 'str', 0x0a\n  int 0x80\n",
    "gas": ".globl main\nmain:\n\tmovl $1, %eax # c\n\tleaq .LC0(%rip), %rdi\n\tret\n",
    "java": "@Override public <T> List<T> f(final int... a) throws E {\n"
    'var s = """\n  t\n  """; return null; }\n',
    "php": "<?php\n$a = ['k' => \"v {$b->c}\"]; echo <<<EOT\nx $y\nEOT;\nfunction f(?int $x): "
    "static {}\n?>\n<p>html</p>\n",
    "nginx": "server {\n  listen 80;\n  location ~* \\.(png|jpg)$ { expires 30d; }\n"
    "  # c\n  return 301 https://$host$request_uri;\n}\n",
    "markdown": "# T\n\n*a* **b** `c`\n\n```py\nx = 1\n```\n\n- [l](http://x) ![i](y)\n> q\n",
    "diff": "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new\n context\n",
    "text": "plain\ttext\n",
    # back-references in a state whose rules hold more than 99 groups before them
    "perl": 'print q!not $x!; my @a = qw(a b);\nprint <<"EOT";\nhi $x\nEOT\n'
    "$s =~ s/a(b)/$1/g; my $h = {k => q\na\n};\n",
}
# Characters no rule matches, and a newline inside a state: Pygments' Error and its reset.
UNMATCHED = {"python": "x = 1 ? 2\n'open\nnext\n", "json": '{"a": @}\n', "css": "a { b: ` }\n"}


def _corpus_blocks() -> list[tuple[str | None, str]]:
    blocks = []
    for path in sorted(CORPUS.rglob("*.md")):
        if path.name == "README.md":
            continue
        try:
            rendered = to_html(path.read_text(encoding="utf-8-sig"))
        except ValueError:
            continue  # too deep or too complex: such a post is rejected before highlighting
        for found in _CMARK_BLOCK.finditer(rendered):
            info = found.group(1)
            lang = html.unescape(info).split()[0] if info and info.strip() else None
            blocks.append((lang, html.unescape(found.group(3))))
    return blocks


@pytest.mark.corpus
def test_every_code_block_of_the_corpus_lexes_to_pygments_own_tokens() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    blocks = _corpus_blocks()
    combined = set()
    for lang, code in blocks:
        lexer, _ = _lexer(code, lang, False)
        assert list(combined_tokens(lexer, code)) == list(lexer.get_tokens(code)), (lang, code)
        if _states(lexer.__class__) is not None:
            combined.add(lexer.__class__.__name__)
    assert len(blocks) > 1000
    # the driver, not Pygments' loop, lexed the languages that carry most of the corpus's code
    assert {"JavascriptLexer", "BashLexer", "PythonLexer", "CssLexer", "HtmlLexer"} <= combined


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_each_language_sample_lexes_to_pygments_own_tokens(lang: str) -> None:
    lexer, _ = _lexer(SAMPLES[lang], lang, False)
    code = SAMPLES[lang] + UNMATCHED.get(lang, "")
    assert list(combined_tokens(lexer, code)) == list(lexer.get_tokens(code))


def test_the_states_of_the_common_lexers_are_all_combined() -> None:
    for lang in ("bash", "js", "python", "css", "html", "sql"):
        lexer, _ = _lexer("", lang, False)
        states = _states(lexer.__class__)
        assert states is not None, lang
        for name in lexer._tokens:
            state = states[name]
            assert _state(state.rules, states.flags)[0] is not None, (lang, name)
            for char in set(SAMPLES[lang]):  # the rules picked for a character: one pattern
                combined, _, rules = state.at(char)
                assert combined is not None or not rules, (lang, name, char)


def test_lexers_that_override_pygments_loop_keep_it() -> None:
    cuda = get_lexer_by_name("cuda", stripnl=False, ensurenl=False)
    assert _states(cuda.__class__) is None  # its own renaming of names
    code = "__global__ void f(int3 n) { size_t i = threadIdx.x; }\n"
    assert list(combined_tokens(cuda, code)) == list(cuda.get_tokens(code))


@pytest.mark.parametrize("lang", ["c", "c++"])
@pytest.mark.parametrize(
    "options",
    [{}, {"stdlibhighlighting": False}, {"c99highlighting": False, "platformhighlighting": False}],
)
def test_the_c_family_renaming_of_library_types_follows_the_driver(
    lang: str, options: dict[str, bool]
) -> None:
    lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False, **options)
    states = _states(lexer.__class__)
    assert states is not None and states.c_family
    code = "int main(void) { size_t n = 0; int8_t m; atomic_int a; __u32 u; FILE *f; }\n"
    expected = list(lexer.get_tokens(code))
    assert list(combined_tokens(lexer, code)) == expected
    assert any(token == Keyword.Type for token, _ in expected)


def test_a_lexer_is_combined_only_after_its_pygments_loop_took_as_long_as_combining(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lexer = get_lexer_by_name("nginx", stripnl=False, ensurenl=False)
    states = _states(lexer.__class__)
    assert states is not None
    code = SAMPLES["nginx"]
    expected = list(lexer.get_tokens(code))
    monkeypatch.setattr(states, "loop_seconds", 0.0)
    assert list(tokens(lexer, code)) == expected
    assert states.loop_seconds > 0  # Pygments' loop lexed it, and its time was counted
    monkeypatch.setattr(states, "loop_seconds", lexing.COMBINE_AFTER_SECONDS)
    assert list(tokens(lexer, code)) == expected
    assert states.loop_seconds == lexing.COMBINE_AFTER_SECONDS
    assert dict.__contains__(states, "root")  # the driver lexed it


def test_back_references_are_renumbered_past_the_groups_before_the_rule() -> None:
    assert _renumbered(r"<<(\w+)x\1", 5) == r"<<(\w+)x(?:\6)"
    assert _renumbered(r"\\1 [\1] \012 \101", 3) == r"\\1 [\1] \012 \101"  # escapes, not groups


class _ManyGroups(RegexLexer):
    """100 groups before a rule with a back-reference."""

    name = "many groups"
    tokens = {  # noqa: RUF012 - Pygments' class attribute
        "root": [
            ("(a)" * 100 + "!", Text),
            (r"(['\"])[^'\"]*\1", String),
            (r"[\s\S]", Text),
        ]
    }


def test_a_back_reference_past_group_99_keeps_the_state_rule_by_rule() -> None:
    assert _renumbered(r"(a)\1", 98) == r"(a)(?:\99)"
    assert _renumbered(r"(a)\1", 99) is None  # \100 would be an octal escape
    lexer = _ManyGroups(stripnl=False, ensurenl=False)
    states = _states(lexer.__class__)
    assert states is not None
    assert states["root"].at("é")[0] is None  # all three rules: no one pattern
    # the rules picked for "a" or a quote hold either the 100 groups or the back-reference
    assert all(states["root"].at(char)[0] is not None for char in "a'\"")
    code = "x 'quoted' \"and\" é " + "a" * 100 + "!\n"
    assert list(combined_tokens(lexer, code)) == list(lexer.get_tokens(code))


def test_leading_global_flags_become_scoped_flags() -> None:
    assert _scoped(r"(?s)a.b") == r"(?s:a.b)"
    assert _scoped("(?x)a # comment") == "(?x:a # comment\n)"
    assert _scoped(r"a(?s)") == r"a(?s)"


# Patterns with the starts that are easy to get wrong: case folding (K and ſ fold to ASCII
# letters), classes negated or made of categories, rules that can match empty, look-arounds,
# back-references, repeats that may run zero times, branches, scoped flags.
START_PATTERNS = [
    r"(?i)select\b",
    "(?i)\u212a",
    "(?i)[\u017f]",
    r"(?i)[^a-z]+",
    r"[^\s\d]",
    r"[^a]",
    r"(?i)[^k]",
    r"\w+",
    r"\W",
    r"\S+",
    r"(?=x)\w",
    r"(?!x)\w",
    r"(?<=\.)\w+",
    r"$",
    r"\b",
    r"a*b",
    r"(a|b?)c",
    r"(['\"])[^'\"]*\1",
    r"(?i:x)y",
    r"(?-i:x)y",
    r"x{0,2}[0-9]",
    r"(?>ab|cd)",
    r"[\x00-\x7f]",
    r"(?s).",
    r"[-+*/%]=?",
]


@pytest.mark.parametrize("pattern", START_PATTERNS)
@pytest.mark.parametrize("flags", [0, re.IGNORECASE, re.MULTILINE | re.DOTALL])
def test_a_rule_is_picked_for_every_character_it_can_start_with(pattern: str, flags: int) -> None:
    matcher = re.compile(pattern, flags).match
    start = _Start.of((matcher, Text, None), flags)
    assert start is not None
    tails = ["", "a", "B", "0", " ", "\n", "x", ".", "y", "c", "k", "s", "'", "=", "Z9"]
    for char in sorted(lexing._PICKED):
        if not start.may_start(char):
            # no match can start with it: not of the character alone nor with a tail
            assert all(
                matcher(text) is None or matcher(text).end() == 0
                for text in (char + tail for tail in tails)
            ), (pattern, char)
    if matcher("") is not None:  # at the end of the text, only such a rule can match
        assert start.may_start("")
    assert not _Start.of((re.compile("a").match, Text, None), 0).may_start("")  # type: ignore[union-attr]


def test_a_character_past_ascii_gets_every_rule() -> None:
    lexer = get_lexer_by_name("python", stripnl=False, ensurenl=False)
    states = _states(lexer.__class__)
    assert states is not None
    root = states["root"]
    assert len(root.at("\u212a")[2]) == len(root.rules)  # the Kelvin sign folds to k
    assert len(root.at("k")[2]) < len(root.rules)  # a letter: the rules that take one
    code = "\u212a = 1  # é\n"
    assert list(combined_tokens(lexer, code)) == list(lexer.get_tokens(code))
