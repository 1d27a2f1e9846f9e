"""Code highlighting: hexo-util's layout, Pygments' classes, Hexo's highlight settings."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import frontmatter
import pytest
from blogpub.highlight import (
    HighlightSettings,
    highlight_block,
    highlight_code_blocks,
    highlighter,
)
from blogpub.markup import render_body, to_html
from blogpub.settings import load_settings
from blogpub.tags import TagContext, expand_tags

from tests.conftest import REPO

CMARK_JS = (
    '<pre><code class="language-js">const a = &quot;x&lt;y&quot;;\nreturn 1;\n</code></pre>\n'
)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "br":
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _code_text(html_text: str) -> str:
    """The text of the code cell, lines rejoined at each <br>."""
    cell = html_text.split('<td class="code">', 1)[1].split("</td>", 1)[0]
    parser = _Elements()
    parser.feed(cell.replace("<br>", "\n"))
    return "".join(parser.text)


def test_fenced_block_takes_hexo_utils_layout_with_pygments_classes() -> None:
    out = highlight_code_blocks(CMARK_JS, HighlightSettings())
    assert out.startswith(
        '<figure class="highlight js"><table><tr><td class="gutter"><pre>'
        '<span class="line">1</span><br><span class="line">2</span><br></pre></td>'
        '<td class="code"><pre><span class="line"><span class="kd">const</span>'
    )
    # (quotes in text stay plain: the sanitiser writes them so, and the held lines match it)
    assert '<span class="s2">"x&lt;y"</span>' in out
    assert out.endswith("</pre></td></tr></table></figure>\n")
    assert _code_text(out) == 'const a = "x<y";\nreturn 1;\n'


def test_every_element_is_closed_and_code_is_escaped() -> None:
    code = '<pre><code class="language-html">&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>'
    out = highlight_code_blocks(code, HighlightSettings())
    parser = _Elements()
    parser.feed(out)
    assert parser.open == []
    assert "<script" not in out
    assert "&lt;" in out


def test_unknown_or_missing_language_is_plaintext_and_hostile_class_is_dropped() -> None:
    for block in (
        "<pre><code>a &amp; b\n</code></pre>",
        '<pre><code class="language-nosuchlang">a &amp; b\n</code></pre>',
        '<pre><code class="language-x&quot;onclick=&quot;y">a &amp; b\n</code></pre>',
    ):
        out = highlight_code_blocks(block, HighlightSettings())
        assert out.startswith('<figure class="highlight plaintext">'), out
        assert '<span class="line">a &amp; b</span><br>' in out
        assert "onclick" not in out


def test_enable_off_leaves_cmark_output_alone() -> None:
    assert highlight_code_blocks(CMARK_JS, HighlightSettings(enable=False)) == CMARK_JS


def test_line_number_off_drops_the_gutter() -> None:
    out = highlight_block("x = 1", "python", HighlightSettings(line_number=False))
    assert 'class="gutter"' not in out
    assert out.startswith('<figure class="highlight python"><table><tr><td class="code">')


def test_wrap_off_without_line_numbers_is_a_plain_pre() -> None:
    out = highlight_block("a\nb", None, HighlightSettings(line_number=False, wrap=False))
    assert out == '<pre><code class="highlight plaintext">a\nb</code></pre>'


def test_hljs_layout_wraps_lines_in_code_not_spans() -> None:
    out = highlight_block("a\nb", None, HighlightSettings(hljs=True))
    assert '<td class="code"><pre><code class="hljs plaintext">a<br>b<br></code></pre>' in out


def test_tab_replace_replaces_the_leading_tab_run() -> None:
    out = highlight_block("\t\tx\ty", None, HighlightSettings(tab_replace="  ", strip_indent=False))
    assert '<span class="line">    x\ty</span>' in out


def test_strip_indent_removes_common_indentation() -> None:
    out = highlight_block("    a\n      b", None, HighlightSettings())
    assert '<span class="line">a</span><br><span class="line">  b</span>' in out


def test_auto_detect_off_by_default_and_on_when_asked() -> None:
    code = "#!/usr/bin/env python\nimport os\nprint(os.getcwd())"
    assert highlight_block(code, None, HighlightSettings()).startswith(
        '<figure class="highlight plaintext">'
    )
    detected = highlight_block(code, None, HighlightSettings(auto_detect=True))
    assert detected.startswith('<figure class="highlight python')
    assert '<span class="kn">import</span>' in detected


def test_multiline_tokens_are_closed_on_each_line() -> None:
    out = highlighter(HighlightSettings())('s = """a\nb"""', "python")
    lines = out.split("\n")
    assert len(lines) == 2
    for line in lines:
        assert line.count("<span") == line.count("</span>")


def test_codeblock_tag_uses_the_highlighter_seam() -> None:
    context = TagContext(
        render_markdown=lambda text: text, highlight=highlighter(HighlightSettings())
    )
    result = expand_tags("{% codeblock lang:python %}\nx = 1\n{% endcodeblock %}", context)
    assert '<figure class="highlight python">' in result.text
    assert '<span class="n">x</span>' in result.text


def test_settings_read_highlight_section() -> None:
    settings = load_settings(
        b"highlight:\n  enable: true\n  line_number: false\n  auto_detect: true\n"
        b"  tab_replace: '  '\n  wrap: false\n  hljs: true\n"
    )
    assert settings.highlight == HighlightSettings(
        enable=True, line_number=False, auto_detect=True, tab_replace="  ", wrap=False, hljs=True
    )
    assert load_settings(b"title: x\n").highlight == HighlightSettings()
    assert load_settings(b"syntax_highlighter: false\n").highlight.enable is False
    assert load_settings(b"highlight:\n  tab_replace:\n").highlight.tab_replace == ""


def test_pygments_is_not_imported_until_there_is_code() -> None:
    probe = (
        "import sys\n"
        "from blogpub.highlight import highlight_code_blocks, HighlightSettings\n"
        "highlight_code_blocks('<p>no code</p>', HighlightSettings())\n"
        "assert 'pygments' not in sys.modules\n"
        "highlight_code_blocks('<pre><code>x\\n</code></pre>', HighlightSettings())\n"
        "assert 'pygments' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_class_names_are_those_the_stylesheet_may_style() -> None:
    out = highlight_code_blocks(CMARK_JS, HighlightSettings())
    for classes in re.findall(r'class="([^"]*)"', out):
        for name in classes.split():
            assert re.fullmatch(r"[a-z0-9]+", name), name


def test_stylesheet_colours_the_token_classes_in_light_and_dark() -> None:
    css = (REPO / "layers/blogpub/blogpub/theme/highlight.css").read_text(encoding="utf-8")
    light, dark = css.split("@media (prefers-color-scheme: dark)", 1)
    out = highlight_block('def f(x):\n    return "s" + 1  # c', "python", HighlightSettings())
    styled = {"k", "nf", "s2", "mi", "c1"}
    assert styled <= set(re.findall(r'class="([a-z0-9]+)"', out))
    for name in styled:
        assert f".highlight .{name}" in light and f".highlight .{name}" in dark, name
    assert "url(" not in css and "<script" not in css and "@import" not in css


@pytest.mark.corpus
def test_every_fenced_block_of_the_corpus_is_highlighted() -> None:
    corpus = REPO.parent / "shared" / "corpus" / "hexo"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is absent")
    blocks = highlighted = 0
    for site in sorted(path for path in corpus.iterdir() if path.is_dir()):
        settings = load_settings((site / "_config.yml").read_bytes()).highlight
        for post in sorted(site.rglob("*.md")):
            body = frontmatter.loads(post.read_text(encoding="utf-8-sig")).content
            html_text = to_html(body)
            out = highlight_code_blocks(html_text, settings)
            indented = html_text.count('<pre><code data-indented="">')  # not fences
            blocks += html_text.count("<pre><code") - indented
            highlighted += out.count('<figure class="highlight ')
            assert out.count("<pre><code") - out.count('<pre><code class="hljs ') == indented
    # the fenced blocks of both blogs (Hexo 7 highlights all of them: 963 + 246 in its build)
    assert blocks == highlighted > 1000


def test_only_fenced_code_is_highlighted_indented_code_stays_plain_as_in_hexo() -> None:
    # Hexo highlights in its backtick_code_block filter; marked leaves indented code plain
    body = render_body(
        "Para\n\n    indented <b>x</b>\n\n- item\n\n      in a list\n\n```\nfenced\n```\n\n"
        "> ~~~\n> quoted\n> ~~~\n"
    )[0]

    assert body.count('<figure class="highlight plaintext">') == 2
    assert "<pre><code>indented &lt;b&gt;x&lt;/b&gt;\n</code></pre>" in body
    assert "<pre><code>in a list\n</code></pre>" in body
    assert "data-" not in body
    # a fence indented past cmark's limit is indented code to cmark, a fence to Hexo
    deep = render_body("- a\n\n\t    ```sql\n\t    select 1;\n\t    ```\n")[0]
    assert deep.count('<figure class="highlight plaintext">') == 1
