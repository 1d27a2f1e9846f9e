"""Hexo tag plugins expanded before Markdown, pinned against Hexo 7.3's own output.

The expected strings marked "Hexo 7.3" are what ``hexo generate`` wrote for the same tag
(hexo-cli 4.3.2, hexo 7.3.0, post_asset_folder on, the post at /2024/01/02/probe/)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import cmarkgfm
import pytest
from blogpub.markup import render_body
from blogpub.tags import ResolvedPost, TagContext, TagResult, expand_tags, split_args
from cmarkgfm.cmark import Options
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import corpus_blog

POST_URL = "/2024/01/02/probe/"
POSTS = {"probe": ResolvedPost("Probe", "/2024/01/02/probe/")}


def markdown(source: str) -> str:
    """The Markdown renderer the pipeline uses: GFM with raw HTML passed through."""
    rendered: str = cmarkgfm.github_flavored_markdown_to_html(
        source, options=Options.CMARK_OPT_UNSAFE
    )
    return rendered


def context(**overrides: object) -> TagContext:
    settings: dict[str, object] = {
        "render_markdown": markdown,
        "post_url": POST_URL,
        "resolve_post": POSTS.get,
    }
    settings.update(overrides)
    return TagContext(**settings)  # type: ignore[arg-type]


def expand(body: str, **overrides: object) -> TagResult:
    return expand_tags(body, context(**overrides))


def inline(tag: str, **overrides: object) -> str:
    """A tag's HTML where it stands inside a line of text (not at a line's start)."""
    return expand("x " + tag, **overrides).text.removeprefix("x ")


def page(body: str, **overrides: object) -> str:
    """The body as the page will hold it: tags expanded, then Markdown."""
    return markdown(expand(body, **overrides).text)


# Argument splitting (Nunjucks' lexer as Hexo's tag.ts joins its tokens)


@pytest.mark.parametrize(
    ("written", "args"),
    [
        ("pic.jpg 200 100 My title", ["pic.jpg", "200", "100", "My", "title"]),
        ('pic.jpg "title text" "alt text"', ["pic.jpg", "title text", "alt text"]),
        ('pic.jpg \'"title text" "alt text"\'', ["pic.jpg", '"title text" "alt text"']),
        # Hexo 7.3: {% link a"b c" https://x.org 'don't' %} -> text a"b c", title dont'
        ("a\"b c\" https://x.org 'don't'", ['a"b', 'c"', "https://x.org", "dont'"]),
        # Hexo 7.3: {% pullquote key:"a b" c\"d 'e f' %} -> class "pullquote key:a b c\"d e f"
        ('key:"a b" c\\"d \'e f\'', ["key:a b", 'c\\"d', "e f"]),
        ("lang:js mark:1,4-7 first_line:3", ["lang:js", "mark:1,4-7", "first_line:3"]),
        ('"a \\"quoted\\" word" \'it\\\'s\'', ['a "quoted" word', "it's"]),
        ("  spaced   out\n  over lines  ", ["spaced", "out", "over", "lines"]),
        # Hexo keeps an argument only when its tokens join to something: "" goes, " " stays.
        ('"" x', ["x"]),
        ('" " x', ["", "x"]),
    ],
)
def test_arguments_split_as_hexo_splits_them(written: str, args: list[str]) -> None:
    assert split_args(written) == args


# Hexo 7's built-in tags


@pytest.mark.parametrize(
    ("tag", "hexo_html"),
    [
        ("{% asset_img pic.jpg %}", '<img src="/2024/01/02/probe/pic.jpg" class="">'),
        (
            '{% asset_img pic.jpg "title text" "alt text" %}',
            '<img src="/2024/01/02/probe/pic.jpg" class="" title="title text alt text">',
        ),
        (
            '{% asset_img pic.jpg \'"title text" "alt text"\' %}',
            '<img src="/2024/01/02/probe/pic.jpg" class="" title="title text" alt="alt text">',
        ),
        (
            "{% asset_image big pic.jpg 200 100 My title %}",
            '<img src="/2024/01/02/probe/pic.jpg" class="big" width="200" height="100"'
            ' title="My title">',
        ),
        ("{% img /a.png %}", '<img src="/a.png" class="">'),
        (
            '{% img left /a.png 10 20 \'"T t" "A a"\' %}',
            '<img src="/a.png" class="left" width="10" height="20" title="T t" alt="A a">',
        ),
        (
            "{% link Hexo docs https://hexo.io/docs/ true Doc title %}",
            '<a href="https://hexo.io/docs/" title="Doc title" target="_blank">Hexo docs</a>',
        ),
        (
            "{% link Plain https://hexo.io %}",
            '<a href="https://hexo.io/" title="" target="">Plain</a>',
        ),
        ("{% url_for Home /about/ %}", '<a href="/about/">Home</a>'),
        ("{% full_url_for Home /about/ %}", '<a href="http://example.com/about/">Home</a>'),
        ("{% post_link probe %}", '<a href="/2024/01/02/probe/" title="Probe">Probe</a>'),
        ("{% post_path probe %}", "/2024/01/02/probe/"),
        (
            "{% asset_link pic.jpg %}",
            '<a href="/2024/01/02/probe/pic.jpg" title="pic.jpg">pic.jpg</a>',
        ),
        ("{% asset_path pic.jpg %}", "/2024/01/02/probe/pic.jpg"),
    ],
)
def test_inline_tags_give_hexos_html(tag: str, hexo_html: str) -> None:
    result = expand(f"A {tag} B\n")

    assert result.text == f"A {hexo_html} B\n"
    assert f"<p>A {hexo_html} B</p>" in markdown(result.text)
    assert result.warnings == ()


def test_with_the_asset_folder_known_a_missing_asset_renders_nothing_as_in_hexo() -> None:
    known = {"assets": frozenset({"pic.jpg", "notes.pdf"})}
    result = expand(
        "{% asset_img big pic.jpg Title %}|{% asset_img slug %}|{% asset_img gone.png %}|"
        "{% asset_link notes.pdf %}|{% asset_link gone.pdf %}|{% asset_path gone.pdf %}",
        **known,
    )

    assert result.text == (
        '<!--tag--><img src="/2024/01/02/probe/pic.jpg" class="big" title="Title">|||'
        '<a href="/2024/01/02/probe/notes.pdf" title="notes.pdf">notes.pdf</a>||'
    )
    assert [(w.name, w.message) for w in result.warnings] == [
        ("asset_img", "asset_img: none of 'slug' is in the post's asset folder"),
        ("asset_img", "asset_img: none of 'gone.png' is in the post's asset folder"),
        ("asset_link", "asset_link: 'gone.pdf' is not in the post's asset folder"),
        ("asset_path", "asset_path: 'gone.pdf' is not in the post's asset folder"),
    ]


def test_without_the_asset_folder_the_first_file_name_is_the_asset() -> None:
    assert expand("{% asset_img slug %}").text == (
        '<!--tag--><img src="/2024/01/02/probe/slug" class="">'
    )
    assert inline("{% asset_img left pic.jpg %}") == (
        '<img src="/2024/01/02/probe/pic.jpg" class="left">'
    )


def test_urls_take_the_site_root_and_are_encoded() -> None:
    under_blog = {"root": "/blog/", "url": "https://example.org/blog"}

    assert expand("x {% asset_path a b.png %}", **under_blog).text == "x /blog/2024/01/02/probe/a"
    assert inline('{% asset_path "a b.png" %}', **under_blog) == "/blog/2024/01/02/probe/a%20b.png"
    assert inline("{% url_for Home /about/ %}", **under_blog) == ('<a href="/blog/about/">Home</a>')
    assert inline("{% full_url_for Home /about/ %}", **under_blog) == (
        '<a href="https://example.org/blog/about/">Home</a>'
    )
    assert 'href="/blog/2024/01/02/probe/"' in expand("{% post_link probe %}", **under_blog).text


def test_post_link_text_shows_as_written_like_hexo_which_renders_tags_after_markdown() -> None:
    # Hexo 7.3: {% post_link probe "Other *title*" %} -> ...>Other *title*</a>
    rendered = page('See {% post_link probe "Other *title* <b>" %}\n')

    assert '<a href="/2024/01/02/probe/" title="Probe">Other *title* &lt;b&gt;</a>' in rendered


def test_post_link_with_an_anchor_and_without_escaping() -> None:
    assert expand('{% post_link probe#part-2 "<b>Bold</b>" false %}').text == (
        '<!--tag--><a href="/2024/01/02/probe/#part-2" title="Probe"><b>Bold</b></a>'
    )


def test_a_post_link_whose_target_is_not_published_shows_its_text_and_waits() -> None:
    result = expand(
        'See {% post_link later-post %}, {% post_link other "the other one" %} and '
        "[here]({% post_path later-post %}).\n"
    )

    assert result.text == "See later-post, the other one and [here]().\n"
    assert result.pending_links == ("later-post", "other")
    assert result.warnings == ()


def test_every_linked_post_is_listed_for_the_reverse_links() -> None:
    result = expand("{% post_link probe %} {% post_link soon %} {% post_path probe %}")

    assert result.linked_posts == ("probe", "soon")
    assert result.pending_links == ("soon",)


def test_blockquote_with_author_and_title() -> None:
    # Hexo 7.3 wrote the same, with a newline before <footer>.
    assert expand(
        "{% blockquote David Levithan, Wide Awake %}\n"
        "Do not just seek happiness.\n{% endblockquote %}"
    ).text.strip() == (
        "<blockquote><p>Do not just seek happiness.</p>&#10;<footer><strong>David Levithan</strong>"
        "<cite>Wide Awake</cite></footer></blockquote>"
    )


def test_blockquote_with_a_source_link_and_a_plain_author() -> None:
    linked = expand(
        "{% blockquote Seth Godin https://sethgodin.com/blog/island.html Island Marketing %}\n"
        "Every interaction.\n{% endblockquote %}"
    ).text
    plain = expand("{% quote Tom %}\n*said*\n{% endquote %}").text

    assert (
        '<footer><strong>Seth Godin</strong><cite><a href="https://sethgodin.com/blog/island.html">'
        "Island Marketing</a></cite></footer>"
    ) in linked
    assert (
        "<blockquote><p><em>said</em></p>&#10;<footer><strong>Tom</strong></footer></blockquote>"
        in plain
    )


def test_pullquote_renders_its_markdown_with_its_classes() -> None:
    # Hexo 7.3: <blockquote class="pullquote left"><p>quoted <em>text</em></p>\n</blockquote>
    assert expand("{% pullquote left %}\nquoted *text*\n{% endpullquote %}").text.strip() == (
        '<blockquote class="pullquote left"><p>quoted <em>text</em></p>&#10;</blockquote>'
    )


def test_codeblock_has_hexos_figure_with_caption_gutter_and_marked_lines() -> None:
    rendered = expand(
        "{% codeblock Array.map lang:js mark:2 %}\narray.map(callback)\nx < y\n{% endcodeblock %}"
    ).text

    assert rendered.strip() == (
        '<figure class="highlight js"><figcaption><span>Array.map</span></figcaption>'
        '<table><tr><td class="gutter"><pre><span class="line">1</span><br>'
        '<span class="line">2</span><br></pre></td><td class="code"><pre>'
        '<span class="line">array.map(callback)</span><br>'
        '<span class="line marked">x &lt; y</span><br></pre></td></tr></table></figure>'
    )


def test_codeblock_without_language_is_plaintext_and_options_apply() -> None:
    plain = expand("{% code %}\nplain\n{% endcode %}").text
    options = expand(
        "{% codeblock Source https://example.com/x.py lang:py line_number:false first_line:5 %}\n"
        "a\n{% endcodeblock %}"
    ).text
    unhighlighted = expand("{% codeblock highlight:false %}\n<b>\n{% endcodeblock %}").text
    # code.ts: anything but "highlight:true" turns highlighting off.
    switched_off = expand("{% codeblock highlight:no %}\nx\n{% endcodeblock %}").text

    assert '<figure class="highlight plaintext"><table><tr><td class="gutter">' in plain
    assert (
        '<figure class="highlight py"><figcaption><span>Source</span>'
        '<a href="https://example.com/x.py">link</a></figcaption>'
        '<table><tr><td class="code"><pre><span class="line">a</span><br></pre>'
    ) in options
    assert unhighlighted.strip() == "<pre><code>&lt;b&gt;</code></pre>"
    assert switched_off.strip() == "<pre><code>x</code></pre>"


def test_codeblock_hands_its_code_to_the_highlight_seam() -> None:
    calls: list[tuple[str, str | None]] = []

    def highlight(code: str, lang: str | None) -> str:
        calls.append((code, lang))
        return '<span class="k">def</span> f():\n    pass'

    rendered = expand(
        "{% codeblock lang:python %}\ndef f():\n    pass\n{% endcodeblock %}", highlight=highlight
    ).text

    assert calls == [("def f():\n    pass", "python")]
    assert '<span class="line"><span class="k">def</span> f():</span><br>' in rendered


def test_code_with_blank_lines_stays_one_block_through_markdown() -> None:
    rendered = page("Before\n{% codeblock %}\nfirst\n\n\nfourth *x*\n{% endcodeblock %}\nAfter\n")

    assert "<p>Before</p>" in rendered
    assert '<span class="line"></span><br><span class="line"></span><br>' in rendered
    assert '<span class="line">fourth *x*</span><br>' in rendered
    assert "<p>After</p>" in rendered


def test_iframes_and_videos_become_links_unless_privacy_enhanced_embeds_are_allowed() -> None:
    frame = expand("{% iframe https://example.com/embed 400 300 %}").text
    video = expand("{% youtube dQw4w9WgXcQ %}").text
    playlist = expand("{% youtube PL123 playlist %}").text
    vimeo = expand("{% vimeo 76979871 %}").text
    embedded = expand("{% youtube dQw4w9WgXcQ %}", privacy_embeds=True).text
    embedded_vimeo = expand("{% vimeo 76979871 %}", privacy_embeds=True).text

    assert (
        frame
        == '<!--tag--><a class="iframe-link" href="https://example.com/embed">https&#58;//example.com/embed</a>'
    )
    assert (
        '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">YouTube video dQw4w9WgXcQ</a>'
        in video
    )
    assert "<iframe" not in video + vimeo + frame
    assert 'href="https://www.youtube.com/playlist?list=PL123"' in playlist
    assert 'href="https://vimeo.com/76979871"' in vimeo
    assert (
        '<div class="video-container"><iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"'
        ' frameborder="0" loading="lazy" allowfullscreen></iframe></div>'
    ) in embedded
    assert 'src="https://player.vimeo.com/video/76979871?dnt=1"' in embedded_vimeo


# What Hexo leaves alone: code, raw, variables; and comments it drops


def test_tags_in_fenced_code_inline_code_and_code_elements_stay_literal() -> None:
    body = (
        "```\n{% asset_img fenced.jpg %}\n```\n\n"
        "~~~md\n{% note %}\n~~~\n\n"
        "> ```\n> {% post_link quoted %}\n> ```\n\n"
        "Inline `{% asset_img no.jpg %}` and ``{% note %}`` and <code>{% label x@y %}</code>.\n"
    )
    result = expand(body)

    assert result.text == body
    assert result.warnings == ()
    assert result.pending_links == ()


def test_a_fence_hidden_inside_a_later_code_span_comes_back_as_written() -> None:
    # the fences are hidden first; the backtick runs around them then read as a code span
    code = "{```\n```\n```\n{```\n"
    result = expand("{% label x %}\n" + code)

    assert result.text.endswith("\n" + code)
    assert not any("\ue000" <= char <= "\uf8ff" for char in result.text)


def test_raw_keeps_its_content_and_comments_go_and_variables_stay() -> None:
    # Hexo 7.3: raw content as written; "Var  and comment  end." ({{ y }} evaluated to nothing,
    # which is the one place we differ on purpose: nothing in a post is evaluated).
    result = expand(
        "{% raw %}{% asset_img raw.jpg %} {{ x }}{% endraw %}\n\n"
        "Var {{ y }} and comment {# gone {% note %} #} end.\n"
    )

    assert result.text == "{% asset_img raw.jpg %} {{ x }}\n\nVar {{ y }} and comment  end.\n"
    assert result.warnings == ()


def test_a_lone_backtick_does_not_hide_the_tags_of_the_next_paragraph() -> None:
    result = expand("It`s here.\n\n{% asset_img a.png %}\n")

    assert result.text == 'It`s here.\n\n<!--tag--><img src="/2024/01/02/probe/a.png" class="">\n'


# Nesting


def test_asset_img_and_note_inside_tabs_are_expanded_first() -> None:
    rendered = page(
        "{% tabs shots, 2 %}\n"
        "<!-- tab First @heart -->\n"
        "{% asset_img one.png %}\n"
        "<!-- endtab -->\n"
        "<!-- tab <code>two</code> table -->\n"
        "{% note info %}\n"
        "Inner *note*\n\n"
        "```\ncode {% asset_img literal.png %}\n\n\nafter blank lines\n```\n"
        "{% endnote %}\n"
        "<!-- endtab -->\n"
        "<!-- tab -->\n"
        "third\n"
        "<!-- endtab -->\n"
        "{% endtabs %}\n"
    )

    assert rendered.startswith('<div class="tabs" id="shots">')
    assert (
        '<section class="tab-pane" id="shots-1"><h4 class="tab-title">First</h4>'
        '<!--tag--><img src="/2024/01/02/probe/one.png" class=""></section>'
    ) in rendered
    assert '<h4 class="tab-title"><code>two</code> table</h4><div class="note info">' in rendered
    assert "<p>Inner <em>note</em></p>" in rendered
    assert "code {% asset_img literal.png %}\n\n\nafter blank lines" in rendered.replace(
        "&#10;", "\n"
    )
    assert '<h4 class="tab-title">shots 3</h4><p>third</p></section></div>' in rendered
    assert "<p>" not in rendered.split("<div")[0]


def test_a_note_inside_a_note_closes_at_its_own_end_tag() -> None:
    rendered = expand(
        "{% note warning %}\nouter\n{% note info %}\ninner\n{% endnote %}\n"
        "still outer\n{% endnote %}\n"
    ).text

    assert rendered.strip().startswith('<div class="note warning"><p>outer</p>')
    assert '<div class="note info"><p>inner</p>&#10;</div>' in rendered
    assert rendered.strip().endswith("<p>still outer</p>&#10;</div>")


def test_inline_paired_tag_on_one_line_is_a_block() -> None:
    rendered = page("Intro\n{% centerquote %} content {% endcenterquote %}\nOutro\n")

    assert rendered == (
        "<p>Intro</p>\n"
        '<blockquote class="blockquote-center"><p>content</p></blockquote>\n'
        "<p>Outro</p>\n"
    )


def test_block_tags_inside_a_list_item_stay_in_it() -> None:
    rendered = page(
        "1. First\n"
        "   {% codeblock lang:sh %}\n   echo 1\n\n   echo 2\n   {% endcodeblock %}\n"
        "2. Second {% asset_img a.png %}\n"
        "   {% note info %}\n   in note\n   {% endnote %}\n"
        "3. Third\n"
    )

    assert rendered.count("<li>") == 3
    assert "<pre><code>" not in rendered
    assert (
        '<td class="code"><pre><span class="line">echo 1</span><br><span class="line"></span><br>'
        '<span class="line">echo 2</span><br></pre>'
    ) in rendered
    assert (
        '<p>Second <img src="/2024/01/02/probe/a.png" class=""></p>\n'
        '<div class="note info"><p>in note</p>&#10;</div>\n</li>'
    ) in rendered


def test_a_block_tag_that_opens_a_list_item_stays_in_it() -> None:
    rendered = page("1. {% note info %}\n   x\n   {% endnote %} after\n2. Second\n")

    assert rendered.count("<li>") == 2
    assert '<li>\n<div class="note info"><p>x</p>&#10;</div>\n<p>after</p>\n</li>' in rendered


def test_a_block_tag_in_a_quote_stays_in_the_quote() -> None:
    rendered = page("> Quote\n> {% centerquote %}hi{% endcenterquote %}\n> more\n")

    assert rendered == (
        "<blockquote>\n<p>Quote</p>\n"
        '<blockquote class="blockquote-center"><p>hi</p></blockquote>\n'
        "<p>more</p>\n</blockquote>\n"
    )


def test_nunjucks_whitespace_control_marks_are_accepted() -> None:
    result = expand("{%- asset_path a.png -%} and {%-note-%}x{%- endnote -%}")

    assert (
        result.text
        == '<!--tag-->/2024/01/02/probe/a.png and \n<div class="note"><p>x</p>&#10;</div>\n\n'
    )
    assert result.warnings == ()


# Unknown and broken tags


def test_an_unknown_tag_is_shown_as_text_with_a_warning_on_its_line() -> None:
    body = '# Title\n\n```\nfour\nlines\nof code\n```\n\n{% mmedia "bilibili" <b>x</b> %}\n'
    result = expand(body)

    assert '<code>&#123;% mmedia "bilibili" &lt;b&gt;x&lt;/b&gt; %&#125;</code>' in result.text
    assert result.warnings[0].name == "mmedia"
    assert result.warnings[0].line == 9
    assert "unknown tag" in result.warnings[0].message
    assert "<p><code>{% mmedia &quot;bilibili&quot; &lt;b&gt;x&lt;/b&gt; %}</code></p>" in (
        markdown(result.text)
    )


def test_warning_lines_count_tags_that_span_lines_and_hidden_code() -> None:
    body = (
        "{% note\n  info %}\n`a\nb`\n{% endnote %}\n"
        "{# a comment\nover lines #}\n"
        "{% tabs t %}\n<!-- tab x -->\n{% nope %}\n<!-- endtab -->\n{% endtabs %}\n"
        "{% alsonope %}\n"
    )

    assert [(w.name, w.line) for w in expand(body).warnings] == [("nope", 10), ("alsonope", 13)]


def test_an_unknown_paired_tag_keeps_its_content_and_expands_inside_it() -> None:
    result = expand("{% hackmd %}\n{% asset_path a.png %}\n{% endhackmd %}\n")

    assert result.text == (
        "<code>&#123;% hackmd %&#125;</code>\n<!--tag-->/2024/01/02/probe/a.png\n"
        "<code>&#123;% endhackmd %&#125;</code>\n"
    )
    assert [(w.name, w.line) for w in result.warnings] == [("hackmd", 1), ("endhackmd", 3)]


def test_an_unclosed_or_stray_tag_and_bad_arguments_are_text_with_warnings() -> None:
    result = expand("line one\n{% note info %}\nnever closed\n\n{% endtabs %}\n{% img %}\n")

    assert result.text == (
        "line one\n<code>&#123;% note info %&#125;</code>\nnever closed\n\n"
        "<code>&#123;% endtabs %&#125;</code>\n<!--tag--><code>&#123;% img %&#125;</code>\n"
    )
    assert [(w.name, w.line) for w in result.warnings] == [
        ("note", 2),
        ("endtabs", 5),
        ("img", 6),
    ]


def test_an_unclosed_tag_delimiter_reads_on_to_the_next_closing_as_hexo_does() -> None:
    # `{% asset_img b.png %` lacks its `}`: the arguments run on to the next tag's `%}`.
    result = expand("Para {% asset_img b.png %\nswallowed words\n{% asset_img c.png 't' %} after\n")

    assert result.text == (
        'Para <img src="/2024/01/02/probe/b.png" class="" '
        'title="% swallowed words {% asset_img c.png t"> after\n'
    )
    [warning] = result.warnings
    assert (warning.name, warning.line, warning.last_line) == ("asset_img", 1, 3)
    assert "unclosed tag delimiter" in warning.message
    assert "read as the tag's arguments" in warning.message


def test_an_unclosed_paired_tag_with_no_end_after_it_drops_the_rest_as_hexo_does() -> None:
    body = (
        "{% codeblock %}\na\n{% endcodeblock %}\n\n1. step\n"
        "    {% codeblock lang:shell line_number:false %\n    openvpn --genkey\n"
        "    {% endcodeblock %}\n\n\t{% asset_img 19.png %}\n2. lost step\n"
    )

    result = expand(body)

    assert result.text.endswith("\n\n1. step\n    ")
    assert "lost step" not in result.text and "genkey" not in result.text
    [warning] = result.warnings
    assert (warning.name, warning.line, warning.last_line) == ("codeblock", 6, 8)
    assert "leaves out the tag and the rest of the post" in warning.message


def test_a_later_end_tag_closes_a_tag_whose_delimiter_is_unclosed() -> None:
    body = "{% codeblock a %\nx\n{% endcodeblock %}\nkept\n{% endcodeblock %}\nafter\n"

    result = expand(body)

    # (Hexo writes the caption's braces &#123;: nh3 writes them back as braces)
    assert re.search(r"<figcaption><span>a % x (\{|&#123;)% endcodeblock</span>", result.text)
    assert '<span class="line">kept</span>' in result.text
    assert result.text.endswith("after\n")
    assert [(w.name, w.line, w.last_line) for w in result.warnings] == [("codeblock", 1, 3)]


@pytest.mark.parametrize("opener", ["{%", "{{", "{#"])
def test_an_opener_that_nothing_closes_drops_the_rest_as_hexo_does(opener: str) -> None:
    # (a `{%` with a `%}` after it is a tag: an unknown one, shown as text)
    result = expand(f"{{% label a %}} kept\nalso kept {opener} lost\nlost too\n")

    assert result.text.endswith("kept\nalso kept ")
    assert "lost" not in result.text
    [warning] = result.warnings
    assert (warning.name, warning.line) == ("", 2)
    assert warning.message.startswith(f"{opener} without a")


@pytest.mark.parametrize("opener", ["{{", "{#"])
def test_a_tag_after_an_unclosed_variable_or_comment_is_left_out_too(opener: str) -> None:
    assert expand(f"a {opener} b {{% label c %}}\n").text == "a "


def test_private_use_characters_in_the_body_stay_text() -> None:
    body = "\ue0000\ue001 `{% note %}` {% note %}\ue0001\ue001{% endnote %}"

    assert expand(body).text == (
        '\ue0000\ue001 `{% note %}` \n<div class="note"><p>\ue0001\ue001</p>&#10;</div>\n\n'
    )


_FRAGMENTS = [
    "{%", "%}", "{% note info %}", "{% endnote %}", "{% tabs a,1 %}", "{% endtabs %}",
    "<!-- tab x -->\n", "<!-- endtab -->", "`", "```\n", "~~~\n", "{{", "}}", "{#", "#}",
    "{% raw %}", "{% endraw %}", "\n", "\n\n", "  ", "\t", "text", "'", '"', "\\", "- ", "1. ",
    "{% asset_img a.png 'x' %}", "{% post_link p %}", "{% codeblock lang:x mark:1-3 %}",
    "{% endcodeblock %}", "{% spoiler %}", "{% endspoiler %}", "{% img %}", "{% label %}",
    "{% gp 3-1 %}", "{% endgp %}", "{% youtube %}", "{% nope a %}", "<code>", "</code>",
    "{%- x -%}", "{% %}", "\ue000",
]  # fmt: skip


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
@settings(max_examples=300, deadline=None)
def test_any_mix_of_tags_and_code_expands_without_raising(body: str) -> None:
    result = expand(body)

    assert isinstance(result.text, str)
    assert all(1 <= warning.line <= body.count("\n") + 1 for warning in result.warnings)
    assert list(result.warnings) == sorted(result.warnings, key=lambda warning: warning.line)


def test_a_body_without_tags_comes_back_unchanged() -> None:
    body = "Plain *text* with {braces} and 100% effort.\n"

    assert expand(body) == TagResult(body)


# Theme tags (NexT, with Butterfly's and Fluid's names)


def test_note_as_next_writes_it() -> None:
    plain = expand("{% note %}\n*a*\n{% endnote %}").text.strip()
    styled = expand("{% note success no-icon %}\nok\n{% endnote %}").text.strip()
    summary = expand("{% note warning Read *this* %}\nbody\n{% endnote %}").text.strip()
    butterfly = expand("{% note blue 'fas fa-bullhorn' simple %}\nb\n{% endnote %}").text.strip()

    assert plain == '<div class="note"><p><em>a</em></p>&#10;</div>'
    assert styled == '<div class="note success no-icon"><p>ok</p>&#10;</div>'
    assert summary == (
        '<details class="note warning"><summary>Read <em>this</em></summary>'
        "&#10;<p>body</p>&#10;</details>"
    )
    assert butterfly == '<div class="note blue simple"><p>b</p>&#10;</div>'
    assert (
        "<summary>fast tips</summary>" in expand("{% note info fast tips %}\nx\n{% endnote %}").text
    )
    # A summary of two paragraphs keeps them: only a single paragraph is unwrapped.
    assert (
        "<summary><p>one</p>&#10;<p>two</p></summary>"
        in expand('{% note info "one\n\ntwo" %}\nbody\n{% endnote %}').text
    )


def test_label_button_and_spoilers() -> None:
    assert expand("{% label primary@Hello *x* %}").text == (
        '<!--tag--><mark class="label primary">Hello &#42;x&#42;</mark>'
    )
    assert inline("{% label Hello blue %}") == '<mark class="label blue">Hello</mark>'
    assert inline("{% button /path/, Go there, home, The title %}") == (
        '<a class="btn" href="/path/" title="The title">Go there</a>'
    )
    assert inline("{% btn https://example.com/, Site %}") == (
        '<a class="btn" href="https://example.com/">Site</a>'
    )
    assert expand("{% spoiler Ending %}\nThey *win*.\n{% endspoiler %}").text.strip() == (
        '<details class="spoiler"><summary>Ending</summary><p>They <em>win</em>.</p></details>'
    )
    assert expand("{% spoiler the butler %}").text.strip() == (
        '<details class="spoiler"><summary>Spoiler</summary>the butler</details>'
    )
    assert expand("{% sliding_spoiler %}\nx\n{% endsliding_spoiler %}").text.strip() == (
        '<details class="spoiler"><summary>Spoiler</summary><p>x</p></details>'
    )
    assert expand("{% hideToggle Show me,bg %}\nx\n{% endhideToggle %}").text.strip() == (
        '<details class="spoiler"><summary>Show me</summary><p>x</p></details>'
    )


def test_grouppicture_lays_out_rows_as_next_does() -> None:
    rendered = expand(
        "{% grouppicture 3-2 %}\n{% asset_img 1.jpg %}\n{% asset_img 2.jpg %}\n"
        "{% asset_img 3.jpg %}\n{% endgrouppicture %}"
    ).text
    default = expand("{% gp %}![a](/a.png) ![b](/b.png) ![c](/c.png) ![d](/d.png){% endgp %}").text

    rows = re.findall(r'<div class="group-picture-row">(.*?)</div></div>', rendered)
    assert [row.count("<img") for row in rows] == [2, 1]
    assert 'src="/2024/01/02/probe/3.jpg"' in rows[1]
    assert [row.count("<img") for row in re.findall(r'-row">(.*?)</div></div>', default)] == [3, 1]


def test_mermaid_gist_and_meting_show_without_script() -> None:
    mermaid = expand("{% mermaid graph TD %}\nA --> B<C>\n{% endmermaid %}").text.strip()
    gist = expand("{% gist 1a2b3c hello.py %}").text
    song = expand('{% meting "002X3RjI43O8qj" "tencent" "song" %}').text
    unknown_server = inline("{% meting 1 kugou song %}")

    assert mermaid == (
        '<pre class="mermaid"><code class="language-mermaid">'
        "graph TD&#10;A --&gt; B&lt;C&gt;</code></pre>"
    )
    assert gist == (
        '<!--tag--><a class="gist-link" href="https://gist.github.com/1a2b3c#file-hello-py">'
        "gist 1a2b3c (hello.py)</a>"
    )
    assert 'href="https://y.qq.com/n/ryqq/songDetail/002X3RjI43O8qj"' in song
    assert unknown_server == '<span class="music-link">♪ kugou song 1</span>'


def test_tag_html_keeps_its_structure_through_the_sanitiser() -> None:
    from blogpub.markup import sanitize

    cleaned = sanitize(
        page(
            "{% note info Title %}\nbody `x`\n{% endnote %}\n\n"
            "{% codeblock lang:py %}\na = 1\n\nb = 2\n{% endcodeblock %}\n\n"
            "{% tabs t %}\n<!-- tab One -->\nx\n<!-- endtab -->\n{% endtabs %}\n\n"
            "{% mermaid %}\nA-->B\n\nB-->C\n{% endmermaid %}\n\n"
            "{% label primary@hi %} {% youtube abc %}\n"
        )
    )

    assert (
        '<details class="note info"><summary>Title</summary>\n'
        "<p>body <code>x</code></p>\n</details>"
    ) in cleaned
    assert (
        '<td class="code"><pre><span class="line">a = 1</span><br><span class="line"></span><br>'
        '<span class="line">b = 2</span><br></pre></td>'
    ) in cleaned
    assert '<section class="tab-pane"><h4 class="tab-title">One</h4><p>x</p></section>' in cleaned
    assert (
        '<pre class="mermaid"><code class="language-mermaid">A--&gt;B\n\nB--&gt;C</code></pre>'
        in (cleaned)
    )
    assert '<mark class="label primary">hi</mark>' in cleaned
    assert (
        '<a href="https://www.youtube.com/watch?v=abc" rel="noopener noreferrer" target="_blank">'
    ) in cleaned


def test_importing_the_package_loads_only_the_standard_library() -> None:
    probe = (
        "import sys; before = set(sys.modules); import blogpub.tags; "
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}"
        " - set(sys.stdlib_module_names)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout

    assert loaded.strip() == "['blogpub']"


def tag_modules_loaded_by(body: str) -> list[str]:
    """The tag modules a fresh interpreter has loaded after rendering ``body`` and reading
    its links and asset references as the publisher does."""
    probe = (
        "import sys; from blogpub.markup import render_body; "
        "from blogpub.publish import linked_names; "
        f"render_body({body!r}); linked_names({body!r}, '_posts/'); "
        "print(sorted(m for m in sys.modules if m.startswith('blogpub.tags')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return list(ast.literal_eval(loaded.strip()))


def test_a_body_without_a_tag_loads_no_tag_plugin() -> None:
    # A cold start's first post pays for the tag code only when it has a tag (issue 17).
    assert tag_modules_loaded_by("# Tomatoes\n\nIn pots, *daily*.") == [
        "blogpub.tags",
        "blogpub.tags.model",
    ]
    with_a_tag = tag_modules_loaded_by("See {% post_link tomatoes %}.")
    assert {"blogpub.tags.expand", "blogpub.tags.registry", "blogpub.tags.references"} <= set(
        with_a_tag
    )


# The corpus


_TAG_SHOWN = re.compile(r"\{%-?\s*(\w+)")


@pytest.mark.corpus
def test_every_known_tag_of_the_next_blog_expands_or_is_reported(corpus_dir: Path) -> None:
    """No known tag reaches the page as raw ``{%`` outside code unless a warning says why
    (a post whose tag Hexo itself cannot parse); which tags warned is listed."""
    from blogpub.tags import REGISTRY

    blog = corpus_blog("jasonren0403__blog-of-jason")
    warned: dict[str, list[str]] = {}
    silent: list[str] = []
    for post in blog.posts():
        body = post.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        folder = post.with_suffix("")
        assets = frozenset(
            path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
        )
        result = expand_tags(body, context(assets=assets))
        names = {warning.name for warning in result.warnings}
        for warning in result.warnings:
            warned.setdefault(warning.name, []).append(f"{post.name}:{warning.line}")
        outside_code = re.sub(r"<code[^<>]*>[\s\S]*?</code>", "", markdown(result.text))
        silent += [
            f"{post.name}: {name}"
            for name in _TAG_SHOWN.findall(outside_code)
            if (name in REGISTRY or name.removeprefix("end") in REGISTRY)
            and name.removeprefix("end") not in {n.removeprefix("end") for n in names}
        ]

    assert silent == []
    # Its mmedia and hackmd tags sit in code (shown literally, no warning). vpn.md has
    # "{% codeblock lang:shell line_number:false %" without its "}"; some asset_img tags
    # name files the post's folder lacks (Hexo renders those as nothing).
    assert sorted(warned) == ["asset_img", "codeblock"], warned
    assert warned["codeblock"] == ["vpn.md:104"]
    assert "tomcat.md:22" in warned["asset_img"]  # {% asset_img slug %}


def test_a_block_tag_in_a_tab_indented_body_keeps_the_tab_so_the_body_dedents() -> None:
    seen: list[str] = []

    def render_markdown(source: str) -> str:
        seen.append(source)
        return "<p>x</p>"

    body = (
        "2. item\n\n\t{% note info %}\n\t#### head\n\t{% codeblock lang:sql %}\n\tselect 1;\n"
        "\t{% endcodeblock %} after\n\t{% endnote %}\n"
    )
    expand_tags(body, TagContext(render_markdown=render_markdown))

    assert seen[0].startswith("#### head\n<figure class=")
    # Nunjucks puts the HTML where the tag was: the text after it stays on its line (Hexo)
    assert seen[0].endswith("</figure> after")


def test_in_a_tag_body_an_image_line_continues_the_paragraph_and_html_stays_in_place() -> None:
    from blogpub.markup import BodyOptions, render_post_body

    # The note's </div> at column 0 keeps the pane from being dedented, so the pane is
    # code; Hexo 7 + NexT 8.29 print the note's paragraph there as one line: no placeholder
    # comment ends it at the image line, and marked's <br> has no newline after it.
    body = (
        "{% tabs t %}\n<!-- tab a -->\n\tintro\n\t{% note info %}\n\t  Output `x`.\n"
        "\t{% asset_img 14.png %} {% asset_img 15.png %}\n\t  There.\n\t{% endnote %}\n"
        "\tafter\n<!-- endtab -->\n{% endtabs %}\n"
    )

    html = render_post_body(body, None, BodyOptions(post_url=POST_URL)).html

    assert (
        '<pre><code>intro\n&lt;div class="note info"&gt;&lt;p&gt;Output &lt;code&gt;x&lt;/code&gt;.'
        '&lt;br&gt;&lt;img src="/2024/01/02/probe/14.png" class=""&gt; &lt;img '
        'src="/2024/01/02/probe/15.png" class=""&gt;&lt;br&gt;There.&lt;/p&gt;\n</code></pre>'
    ) in html
    assert html.rstrip().endswith("after")


def test_a_fence_after_tags_in_a_tag_body_stays_code() -> None:
    # In Hexo the fence is a placeholder inside the image's or the note's HTML block and
    # comes back as code; here it is text, so those blocks must not run over it.
    body = (
        "{% tabs t %}\n<!-- tab a -->\n{% asset_img a.png %}\n{% asset_img b.png %}\ntext\n"
        "```\ncode\n```\n<!-- endtab -->\n<!-- tab b -->\n{% note %}\nx\n{% endnote %}\n"
        "```\nfenced\n```\n<!-- endtab -->\n{% endtabs %}\n"
    )

    rendered = expand(body).text

    assert "<pre><code>code&#10;</code></pre>" in rendered
    assert "<pre><code>fenced&#10;</code></pre>" in rendered
    assert "```" not in rendered


def test_a_note_in_a_list_item_in_a_tab_keeps_the_list_going_as_marked_does() -> None:
    from blogpub.markup import BodyOptions, render_post_body

    # The note's </div> at column 0 is a lazy line of the item in marked (Hexo 7): the
    # next item follows in the same list, not as text in an HTML block.
    body = (
        "{% tabs t %}\n<!-- tab a -->\n\n1. first\n    {% note info %} \n    inside\n"
        "    {% endnote %}\n2. second\n\n    more of the second\n<!-- endtab -->\n{% endtabs %}\n"
    )

    html = render_post_body(body, None, BodyOptions(post_url=POST_URL)).html

    assert "<li>second</li>" in html or "<li>\n<p>second</p>" in html
    assert "2. second" not in html
    assert "<p>more of the second</p>\n</li>\n</ol>" in html


def test_an_inline_tag_that_starts_a_line_ends_the_paragraph_there_as_in_hexo() -> None:
    # Hexo's placeholder is an HTML comment: a block to the end of its line, then Markdown
    rendered = page("Before *it*\n{% asset_img a.png %}\nAfter `code`\n")

    assert rendered == (
        "<p>Before <em>it</em></p>\n"
        '<!--tag--><img src="/2024/01/02/probe/a.png" class="">\n'
        "<p>After <code>code</code></p>\n"
    )
    assert page("See {% asset_img a.png %}\nAfter\n").startswith("<p>See <img")


def test_an_image_line_in_a_tab_does_not_swallow_the_fence_after_it() -> None:
    rendered = page(
        "{% tabs t %}\n<!-- tab a -->\n{% asset_img x.png %}\nError:\n```\ncode\n```\n"
        "<!-- endtab -->\n{% endtabs %}\n"
    )

    assert "<pre><code>code\n</code></pre>" in rendered.replace("&#10;", "\n")
    assert "```" not in rendered


def test_a_paired_tag_body_indented_with_tabs_and_spaces_dedents_as_hexo_counts() -> None:
    # strip-indent counts a tab as one character, as a space: "    " and "\t\t" share 2
    rendered = page("{% note info %}\n    1. First `one`\n\t\tsecond\n{% endnote %}\n")

    assert '<div class="note info"><ol>' in rendered
    assert "<li>First <code>one</code>" in rendered
    assert "<pre>" not in rendered


def test_a_note_in_a_tab_keeps_its_last_line_at_column_0_so_the_tab_is_not_dedented() -> None:
    # Hexo: Nunjucks puts the note's "</p>\n</div>" in the tabs body before trimBody, so
    # the body's smallest indentation is 0 and its tab-indented lines stay indented code
    body = (
        "{% tabs shots %}\n\t<!-- tab One -->\n\tset *it*\n"
        "\t{% note info %}\n\tdone\n\t{% endnote %}\n\t<!-- endtab -->\n{% endtabs %}\n"
    )
    rendered = page(body)

    assert "<pre><code>set *it*&#10;&lt;div class=&quot;note info&quot;&gt;" in rendered
    flush = page(body.replace("\t{% note info %}\n\tdone\n\t{% endnote %}\n", ""))
    assert "<p>set <em>it</em></p>" in flush


def test_the_placeholder_comment_never_shows_in_code_but_a_written_one_stays() -> None:
    # a line-starting tag indented into code: Hexo shows its HTML there, not its comment
    assert render_body("Text\n\n    {% asset_img a.png %}\n")[0] == (
        '<p>Text</p>\n<pre><code>&lt;img src="/a.png" class=""&gt;\n</code></pre>\n'
    )
    written = render_body("    {% asset_img a.png %}\n\n`<!--tag-->` as written\n")[0]
    assert "<code>&lt;!--tag--&gt;</code> as written" in written
