"""Math to MathML: found before Markdown, kept intact through it; other `$` left alone."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ElementTree

import frontmatter
import pytest
from blogpub.markup import render_body
from blogpub.markup import to_html as render_markdown
from blogpub.mathml import convert, math_warnings, protect_math, restore_math

from tests.conftest import REPO

MATHML = "{http://www.w3.org/1998/Math/MathML}"
CORPUS = REPO.parent / "shared" / "corpus" / "hexo"


def _through_markdown(body: str) -> tuple[str, list[str]]:
    text, formulas = protect_math(body)
    html = restore_math(render_markdown(text), formulas)
    return html, [warning.message for warning in math_warnings(formulas)]


def _math_elements(html: str) -> list[ElementTree.Element]:
    elements = []
    start = 0
    while (start := html.find("<math", start)) >= 0:
        end = html.index("</math>", start) + len("</math>")
        elements.append(ElementTree.fromstring(html[start:end]))
        start = end
    return elements


def _texts(element: ElementTree.Element) -> list[str]:
    return [node.text or "" for node in element.iter()]


def test_markdown_does_not_mangle_braces_backslashes_or_underscores() -> None:
    # Unprotected, Markdown turns `\{` into `{`, `\\` into `\` and `*b*` into emphasis.
    body = r"Sets $\{x_1, x_2\}$ and $a_i *b* c_i$ and" + "\n\n$$\na \\\\ b_{n}\n$$\n"
    mangled = render_markdown(body)
    assert "<em>" in mangled and "${x_1" in mangled and "\\\\" not in mangled
    html, warnings = _through_markdown(body)
    assert warnings == []
    assert "<em>" not in html
    first, second, display = _math_elements(html)
    assert {"{", "}"} <= set(_texts(first))  # `\{ \}` survived as brace operators
    assert any(node.tag == f"{MATHML}msub" for node in first.iter())
    assert [node.tag for node in second.iter()].count(f"{MATHML}msub") == 2
    assert display.get("display") == "block"
    assert any(node.tag == f"{MATHML}mspace" for node in display.iter())  # `\\` line break
    assert html.count("<p>") == 1  # the display formula replaced its paragraph


def test_braces_reach_latex2mathml_as_written() -> None:
    text, formulas = protect_math(r"set $\{a\}$")
    assert formulas[0].latex == r"\{a\}"
    assert formulas[0].html == convert(r"\{a\}", display=False)
    assert "blogpub" in text and "$" not in text


@pytest.mark.parametrize(
    "body",
    [
        "It costs $5 and $10 now.",
        "Price: $5.",
        "echo $HOME and ${x} and $PATH",
        "copy $HOME/$USER here",
        "[map](https://www.google.com/maps/place/$$a$$b/@1,2) and more",
        "see https://maps.example.com/?q=$$x$$ there",
        "<https://example.com/$$a$$>",
        '<a href="https://example.com/$x$">x</a>',
        "`$x$` in code",
        "```sh\necho $x$\n```\n",
        "{% codeblock lang:bash %}\nexport A=${B}/x:$C\n{% endcodeblock %}",
        "{% raw %}$a$ {% endraw %}",
        r"escaped \$x\$ dollars",
        "$ 5 and 6$",
        "$$ $$",
        "[x]: https://example.com/$$y$$",
    ],
)
def test_dollars_that_are_not_math_stay_as_written(body: str) -> None:
    text, formulas = protect_math(body)
    assert formulas == ()
    assert text == body


def test_inline_math_does_not_cross_a_blank_line() -> None:
    assert protect_math("a $x\n\ny$ b")[1] == ()
    assert protect_math("a $x\ny$ b")[1][0].latex == "x\ny"


def test_math_tag_content_becomes_display_mathml() -> None:
    html, warnings = _through_markdown("{% math %}\n\\frac{a}{b}_i\n{% endmath %}\n")
    assert warnings == []
    (element,) = _math_elements(html)
    assert element.get("display") == "block"
    assert any(node.tag == f"{MATHML}mfrac" for node in element.iter())


def test_formula_that_does_not_parse_is_code_with_a_warning() -> None:
    html, warnings = _through_markdown(r"bad $\left( x$ and good $y$")
    assert "<code>$\\left( x$</code>" in html
    assert len(warnings) == 1 and "ExtraLeftOrMissingRightError" in warnings[0]
    assert len(_math_elements(html)) == 1


def test_formula_text_is_escaped_in_the_fallback() -> None:
    _, formulas = protect_math("x $a < b^$ y")
    assert formulas[0].warning is not None and formulas[0].warning.line == 1
    assert formulas[0].html == "<code>$a &lt; b^$</code>"


def test_placeholder_never_collides_with_the_text() -> None:
    text, formulas = protect_math("blogpubmath0x and $y$")
    assert text.startswith("blogpubmath0x and ")
    assert formulas[0].placeholder != "blogpubmath0x"
    assert restore_math(text, formulas).startswith("blogpubmath0x and <math")


def test_body_without_math_is_returned_unchanged_without_importing() -> None:
    assert protect_math("no math here") == ("no math here", ())


@pytest.mark.corpus
def test_corpus_math_posts_convert_without_errors() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    posts = [
        path for path in sorted(CORPUS.rglob("*.md")) if "$" in path.read_text(encoding="utf-8-sig")
    ]
    converted = 0
    for path in posts:
        body = frontmatter.loads(path.read_text(encoding="utf-8-sig")).content
        html, warnings = _through_markdown(body)
        assert warnings == [], path
        converted += len(_math_elements(html))
        assert "blogpubmath" not in html, path
    # affineenc 5, string-format 1, rop 2, javascript-bigint 3, javascript-exponentiation 1
    assert converted == 12


@pytest.mark.parametrize(
    ("latex", "absent"),
    [
        (r"\href{javascript:alert(1)}{x}", "javascript"),
        (r"\style{color:red}{y}", "style"),
        (r'\color{red" onmouseover="x}{y}', "onmouseover"),
    ],
)
def test_attributes_copied_from_the_input_are_dropped(latex: str, absent: str) -> None:
    mathml = convert(latex, display=False)
    # only the TeX annotation, text that browsers do not render, still holds the source
    formula, _, annotation = mathml.partition('<annotation encoding="application/x-tex">')
    assert absent not in formula
    assert annotation.startswith(html.escape(latex, quote=False) + "</annotation>")
    root = ElementTree.fromstring(mathml)
    assert [child.tag.rpartition("}")[2] for child in root.iter()][-1] == "annotation"


def test_the_tex_source_is_kept_as_an_annotation_that_survives_the_sanitiser() -> None:
    body = render_body("Sum $a_1 < \\{b\\}$ here.\n")[0]
    assert '<annotation encoding="application/x-tex">a_1 &lt; \\{b\\}</annotation>' in body
    assert "<semantics><mrow>" in body
    assert render_body('<math><annotation encoding="text/html">x</annotation></math>')[0] == (
        "<p><math><annotation>x</annotation></math></p>\n"
    )


def test_html_inside_a_formula_never_becomes_markup() -> None:
    # latex2mathml copies `\text{…}` into the output as is: an element it did not make fails
    with pytest.raises(ValueError, match="unexpected element in the MathML: b"):
        convert(r"\text{<b>bold</b>}", display=False)


def test_colours_that_are_plain_names_are_kept() -> None:
    assert 'mathcolor="red"' in convert(r"\color{red}{y}", display=False)


def test_math_inside_an_attribute_stays_text() -> None:
    html, _ = _through_markdown('![area $a_1$](x.png "the $b$ one") and $c$')
    assert 'alt="area $a_1$"' in html
    assert 'title="the $b$ one"' in html
    assert len(_math_elements(html)) == 1
