"""The sanitising policy against hostile feed shapes and classic XSS vectors.

The feed-shaped vectors are our own text in the shapes the importers produce (see
../shared/corpus/feed): they are not copies of corpus posts.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from blogpub.markup import render_body, sanitize
from blogpub.reader import read_post
from blogpub.settings import Settings
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SEED_POST

SITE_URL = "https://blog.example"

# Anything that can run script or load active content, in sanitised output (where every
# "<" of text is escaped, so a "<" starts a real tag).
DANGEROUS = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|meta|link|base|svg|frame|mglyph|malignmark)\b"
    r"|<[a-z][^>]*(\son[a-z]+\s*=|javascript:|\sstyle\s*=|data:text)",
    re.IGNORECASE,
)


def clean(untrusted: str) -> str:
    return sanitize(untrusted, site_url=SITE_URL)


def attributes(tag: str) -> dict[str, str]:
    return dict(re.findall(r'\s([a-z-]+)="([^"]*)"', tag))


def assert_harmless(output: str) -> None:
    match = DANGEROUS.search(output)
    assert match is None, f"{match.group(0)!r} survived in {output!r}"


@pytest.mark.parametrize(
    "vector",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<img src=x ONERROR = 'alert(1)'>",
        "<svg onload=alert(1)><circle r=1 /></svg>",
        "<svg><script>alert(1)</script></svg>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href=" \tjavascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="jav\nascript:alert(1)">x</a>',
        '<a href="&#106;&#97;vascript:alert(1)">x</a>',
        '<a href="&#x6A;avascript&colon;alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        '<img src="data:text/html,<script>alert(1)</script>">',
        '<iframe src="https://evil.example/"></iframe>',
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
        '<object data="https://evil.example/x.swf"></object>',
        '<embed src="https://evil.example/x.swf">',
        '<form action="https://evil.example/"><input name="q"><button>Go</button></form>',
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        '<base href="https://evil.example/">',
        '<p style="width: expression(alert(1))">x</p>',
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<style>@import 'https://evil.example/x.css';</style>",
        '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        '<details open ontoggle="alert(1)">x</details>',
        '<a href="https://ok.example/" onmouseover="alert(1)">x</a>',
        '<img srcset="javascript:alert(1) 1x" src="https://ok.example/a.png">',
        "<!--<img src=x onerror=alert(1)>-->",
        "<template><script>alert(1)</script></template>",
    ],
)
def test_classic_xss_vectors_are_neutralised(vector: str) -> None:
    assert_harmless(clean(vector))
    assert_harmless(render_body(vector, site_url=SITE_URL)[0])


def test_forms_become_text_and_inputs_disabled_checkboxes() -> None:
    output = clean('<form><input type="password" name="p"><button>Log in</button></form>')

    assert output == '<input type="checkbox" disabled="">Log in'


def test_style_blocks_of_feed_bodies_are_removed_with_their_css() -> None:
    output = clean(
        '<div class="markdown-body"><style>.markdown-body&#123;color:#333&#125;</style>'
        '<h1 data-id="heading-1">一、标题</h1><p>正文</p></div>'
    )

    assert output == "<div><h1>一、标题</h1><p>正文</p></div>"


def test_bare_onclick_attributes_are_dropped() -> None:
    output = clean('<div class="img_box" id="id_imagebox_0" onclick><p>x</p></div>')

    assert output == "<div><p>x</p></div>"


def test_lazy_image_attributes_become_the_src_when_src_is_a_placeholder() -> None:
    output = clean(
        '<img data-src="https://img.example/real.jpg" src="data:image/gif;base64,R0lGODlhAQABAA==">'
        '<img data-actualsrc="https://img.example/zhihu.jpg" src="https://x.example/grey.gif">'
        '<img class="lazy" data-original="https://img.example/orig.jpg">'
        '<img data-lazy-src="https://img.example/lazy.jpg" src="">'
    )

    assert re.findall(r'src="([^"]*)"', output) == [
        "https://img.example/real.jpg",
        "https://img.example/zhihu.jpg",
        "https://img.example/orig.jpg",
        "https://img.example/lazy.jpg",
    ]
    assert "data-" not in output


def test_a_real_src_wins_over_lazy_attributes() -> None:
    output = clean(
        '<img class="lazy opacity_0 " id="img_0" data-original="http://origin.example/a.jpg"'
        ' data-height="218" src="https://proxy.example/?http://origin.example/a.jpg"'
        ' referrerpolicy="no-referrer">'
    )

    assert output == (
        '<img src="https://proxy.example/?http://origin.example/a.jpg"'
        ' referrerpolicy="no-referrer" loading="lazy">'
    )


def test_lazy_attributes_cannot_smuggle_scripts() -> None:
    output = clean('<img data-src="javascript:alert(1)">')

    assert_harmless(output)
    assert "src=" not in output


def test_every_image_is_lazy_and_keeps_its_presentation_attributes() -> None:
    output = clean(
        '<img src="https://img.example/a.png" alt="A" title="T" width="900" height="540" '
        'srcset="https://img.example/a2.png 2x" loading="eager" referrerpolicy="no-referrer">'
    )

    assert 'loading="lazy"' in output
    assert 'loading="eager"' not in output
    for kept in (
        'alt="A"',
        'title="T"',
        'width="900"',
        'height="540"',
        'referrerpolicy="no-referrer"',
    ):
        assert kept in output
    assert 'srcset="https://img.example/a2.png 2x"' in output


def test_inline_base64_images_are_kept_only_as_images() -> None:
    image = "data:image/png;base64,iVBORw0KGgo="

    assert f'src="{image}"' in clean(f'<img src="{image}">')
    assert "href" not in clean(f'<a href="{image}">x</a>')


def test_external_links_get_rel_and_internal_ones_do_not() -> None:
    output = clean(
        '<a href="https://other.example/x" target="_blank" rel="nofollow lightbox">o</a>'
        '<a href="//cdn.example/y">p</a>'
        '<a href="https://blog.example/2022/02/05/x/">self</a>'
        '<a href="/tags/x/">rel</a><a href="#more">frag</a><a href="mailto:a@b.example">m</a>'
    )

    links = {text: attributes(tag) for tag, text in re.findall(r"(<a\b[^>]*>)([^<]*)</a>", output)}
    assert links["o"] == {
        "href": "https://other.example/x",
        "rel": "nofollow noopener noreferrer",
        "target": "_blank",
    }
    # Hexo's external_link (on by default): other hosts open in a new tab
    assert links["p"] == {
        "href": "//cdn.example/y",
        "rel": "noopener noreferrer",
        "target": "_blank",
    }
    assert links["self"] == {"href": "https://blog.example/2022/02/05/x/"}
    assert links["rel"] == {"href": "/tags/x/"}
    assert links["frag"] == {"href": "#more"}
    assert links["m"] == {"href": "mailto:a@b.example"}


def test_without_a_site_url_every_absolute_link_is_external() -> None:
    assert 'rel="noopener noreferrer"' in sanitize('<a href="https://blog.example/">x</a>')


def test_only_highlighting_classes_survive() -> None:
    output = clean(
        '<pre><code class="hljs language-javascript copyable"><span class="hljs-keyword">const'
        '</span> <span class="evil-overlay">x</span></code></pre><p class="site-nav">p</p>'
    )

    assert '<code class="hljs language-javascript">' in output
    assert '<span class="hljs-keyword">' in output
    assert "evil-overlay" not in output
    assert "site-nav" not in output


def test_vue_and_jsx_inside_code_survive_as_escaped_text() -> None:
    vue = (
        '<pre><code class="hljs language-javascript" lang="javascript"><my-checkbox :checked='
        '<span class="hljs-string">"selected"</span> @change=<span class="hljs-string">"onChange"'
        "</span>></my-checkbox></code></pre>"
    )
    jsx = (
        '<pre><code class="hljs language-JavaScript"><Panel fallback=&#123;<span class="xml">'
        '<span class="hljs-tag"><<span class="hljs-name">Spinner</span> /></span></span>&#125;>'
        '\n<div className=<span class="hljs-string">"App"</span>></div></Panel></code></pre>'
    )

    vue_output = clean(vue)
    jsx_output = clean(jsx)

    assert '&lt;my-checkbox :checked=<span class="hljs-string">"selected"</span>' in vue_output
    assert "&lt;/my-checkbox&gt;</code></pre>" in vue_output
    assert "&lt;Panel fallback={" in jsx_output
    assert '&lt;<span class="hljs-name">Spinner</span> /&gt;' in jsx_output
    assert '&lt;div className=<span class="hljs-string">"App"</span>&gt;&lt;/div&gt;' in jsx_output
    assert "<div" not in jsx_output


def test_template_syntax_in_html_stays_literal() -> None:
    output = clean("<p>{{ config.secret }} {% include 'x' %} &#123;&#123; y &#125;&#125;</p>")

    assert output == "<p>{{ config.secret }} {% include 'x' %} {{ y }}</p>"


def test_seed_post_images_keep_no_referrer_and_become_lazy() -> None:
    post = read_post(SEED_POST.read_bytes(), "_posts/000_d87f2d6de0cb2939.md", Settings())
    source_images = re.findall(r"<img\b[^>]*>", post.body)

    body_html, _ = render_body(post.body, post.excerpt)

    images = re.findall(r"<img\b[^>]*>", body_html)
    assert len(source_images) >= 6
    assert len(images) == len(source_images)
    assert all('referrerpolicy="no-referrer"' in image for image in images)
    assert all('loading="lazy"' in image for image in images)
    assert_harmless(body_html)


def test_output_bytes_are_the_same_in_every_process() -> None:
    # nh3 keeps some attributes in hash maps seeded per process; pages must not change.
    program = (
        "from blogpub.markup import render_body\n"
        "print(render_body('- [x] a\\n\\n<input type=text checked><img src=a alt=b loading=no "
        "referrerpolicy=no-referrer><a href=https://o.example target=_blank rel=nofollow>o</a>'"
        ", site_url='https://blog.example'))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(4)
    }

    assert len(outputs) == 1


FRAGMENTS = st.sampled_from(
    [
        "<script>", "</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:x'>",
        "<svg onload=x>", "<style>", "<iframe>", "<pre><code>", "</code></pre>", "<Vue :a=1>",
        "<!-- more -->", "<!--", "-->", "\n\n", "    ", "# h", "`", "```", "*", "{{ x }}",
        "&#123;", "&lt;", "<", ">", "\"", "'", "=", "onclick=", "data-src='javascript:x'",
        "<img data-original=", "<div>", "</div>", "<input type=text>", "text", "中文",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(FRAGMENTS | st.text(max_size=5), max_size=25))
def test_any_mix_of_hostile_fragments_renders_harmless(pieces: list[str]) -> None:
    body_html, excerpt_html = render_body("".join(pieces), site_url=SITE_URL)

    assert_harmless(body_html)
    assert_harmless(excerpt_html)
