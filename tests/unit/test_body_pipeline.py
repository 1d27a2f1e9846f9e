"""The wired body pipeline: allow-lists, settings, front matter, warnings (issue 14)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from blogpub import urls
from blogpub.markup import (
    THEME_CLASSES,
    BodyOptions,
    ExternalLinks,
    render_post_body,
    sanitize,
)
from blogpub.models import SITE
from blogpub.render import Renderer, stylesheet
from blogpub.settings import Comments, Settings, load_settings
from blogpub.status import StatusLine, format_status
from blogpub.table import MAX_WARNINGS, PostRecord, bounded_warnings

from tests.conftest import make_post

THEME = Path(__file__).resolve().parents[2] / "layers" / "blogpub" / "blogpub" / "theme"
FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def test_theme_classes_are_every_class_the_theme_uses() -> None:
    used = set()
    for template in THEME.glob("*.html"):
        for value in re.findall(r'class="([^"{]*)"', template.read_text(encoding="utf-8")):
            used.update(value.split())
    used.update(re.findall(r"\.([a-zA-Z][\w-]*)", (THEME / "style.css").read_text()))

    assert used == set(THEME_CLASSES)


@pytest.mark.parametrize(
    ("markup", "kept"),
    [
        ('<div class="note info">x</div>', '<div class="note info">x</div>'),
        ('<div class="site-nav note">x</div>', '<div class="note">x</div>'),
        ('<div class="entry">x</div>', "<div>x</div>"),
        ('<figure class="highlight rust">x</figure>', '<figure class="highlight rust">x</figure>'),
        ('<figure class="highlight post-title">x</figure>', '<figure class="highlight">x</figure>'),
        ('<figure class="evil">x</figure>', "<figure>x</figure>"),
        ('<span class="k">x</span>', '<span class="k">x</span>'),
        ('<span class="sep">x</span>', "<span>x</span>"),
        ('<section class="tab-pane" id="comments">x</section>',
         '<section class="tab-pane">x</section>'),
        ('<details class="spoiler" open><summary>s</summary>x</details>',
         '<details class="spoiler" open=""><summary>s</summary>x</details>'),
    ],
)  # fmt: skip
def test_classes_are_the_tags_and_highlighters_never_the_themes(markup: str, kept: str) -> None:
    assert sanitize(markup) == kept


def test_mathml_keeps_only_its_elements_and_presentation_attributes() -> None:
    hostile = (
        '<math display="block" onclick="x()"><mi href="javascript:alert(1)" mathcolor="red">a</mi>'
        '<annotation-xml encoding="text/html"><img src=x onerror=alert(1)></annotation-xml>'
        "<mtext><script>alert(2)</script></mtext><maction actiontype=statusline>b</maction></math>"
    )

    assert sanitize(hostile) == (
        '<math display="block"><mi mathcolor="red">a</mi><mtext></mtext>b</math>'
    )


def test_iframes_only_for_the_privacy_players_and_only_when_the_site_allows_them() -> None:
    players = (
        '<iframe src="https://www.youtube-nocookie.com/embed/x"></iframe>'
        '<iframe src="https://evil.example/" title="Evil"></iframe>'
    )

    assert sanitize(players) == (
        '<a class="iframe-link" href="https://www.youtube-nocookie.com/embed/x" '
        'rel="noopener noreferrer" target="_blank">https://www.youtube-nocookie.com/embed/x</a>'
        '<a class="iframe-link" href="https://evil.example/" rel="noopener noreferrer" '
        'target="_blank">Evil</a>'
    )
    assert sanitize(players, privacy_embeds=True).startswith(
        '<iframe src="https://www.youtube-nocookie.com/embed/x"></iframe><a class="iframe-link"'
    )


def test_a_dropped_iframe_leaves_its_fallback_content_and_nothing_active() -> None:
    codepen = (
        '<iframe src="https://codepen.io/a/embed/x" style="width:100%">See the Pen '
        "<a href='https://codepen.io/a/pen/x'>Demo</a> on CodePen.</iframe>"
        '<iframe src="javascript:alert(1)"></iframe>'
        "<iframe src=x><script>alert(2)</script></iframe>"
    )

    assert sanitize(codepen, site_url="https://codepen.io") == (
        '<span>See the Pen <a href="https://codepen.io/a/pen/x">Demo</a> on CodePen.</span>'
        "<span></span>"
    )


def test_external_link_settings_choose_which_links_open_a_new_tab() -> None:
    body = "[a](https://a.example/) [b](https://b.example/x) [self](https://me.example/)"
    on = render_post_body(body, None, BodyOptions(site_url="https://me.example")).html
    off = render_post_body(
        body, None, BodyOptions(site_url="https://me.example", external_links=ExternalLinks(False))
    ).html
    some = render_post_body(
        body,
        None,
        BodyOptions(
            site_url="https://me.example", external_links=ExternalLinks(True, ("b.example",))
        ),
    ).html

    assert on.count('target="_blank"') == 2 and 'me.example/" rel' not in on
    assert "target=" not in off and off.count('rel="noopener noreferrer"') == 2
    assert some.count('target="_blank"') == 1 and 'b.example/x" rel="noopener noreferrer">' in some


def test_smartypants_and_single_tilde_strikethrough_as_hexo_renderer_marked() -> None:
    html = render_post_body('"Hi" -- it\'s ~gone~ --- ok...', None, BodyOptions()).html

    assert html == "<p>“Hi” – it’s <del>gone</del> — ok…</p>\n"


def test_site_settings_external_link_comments_and_privacy_embeds() -> None:
    settings = load_settings(
        b"external_link:\n  enable: false\n  exclude: [a.example]\n"
        b"privacy_embeds: true\nutterances:\n  repo: me/blog\n  issue_term: title\n"
    )

    assert settings.external_link == ExternalLinks(False, ("a.example",))
    assert settings.privacy_embeds is True
    assert settings.comments == Comments("utterances", {"repo": "me/blog", "issue_term": "title"})
    assert load_settings(b"title: x\n").comments is None
    assert load_settings(b"giscus:\n  enable: false\n  repo: a/b\n").comments is None
    assert load_settings(b"external_link: true\n").external_link == ExternalLinks()


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (b"external_link: [x]\n", "external_link"),
        (b"external_link:\n  enable: maybe\n", "external_link.enable"),
        (b"disqus:\n  shortname: 'a b'\n", "disqus.shortname"),
        (b"giscus:\n  category: x\n", "giscus.repo"),
    ],
)
def test_bad_site_settings_name_the_key(config: bytes, problem: str) -> None:
    from blogpub.errors import SettingsError

    with pytest.raises(SettingsError, match=re.escape(problem)):
        load_settings(config)


@pytest.fixture
def settings() -> Settings:
    return load_settings(b"url: https://blog.example\ntimezone: UTC\n")


def test_description_is_the_meta_and_og_description_and_the_feed_summary(
    settings: Settings,
) -> None:
    post = make_post(body="Body text {% post_path x %}.", extra={"description": "Short & sweet"})
    rendered = Renderer(settings).render_post(post)
    page = rendered.page.body.decode()

    assert '<meta name="description" content="Short &amp; sweet">' in page
    assert '<meta property="og:description" content="Short &amp; sweet">' in page
    assert rendered.excerpt_html == "<p>Short &amp; sweet</p>"  # listings and the feed
    feed = Renderer(settings).feed(SITE, [rendered.entry()]).body.decode()
    assert "&lt;p&gt;Short &amp;amp; sweet&lt;/p&gt;" in feed


def test_a_hidden_post_has_noindex_and_is_in_no_listing_feed_or_sitemap(
    settings: Settings,
) -> None:
    hidden = make_post(title="Secret", extra={"hidden": True}, tags=("t",))
    shown = make_post(title="Open", name="open", source_key="_posts/open.md", tags=("t",))
    renderer = Renderer(settings)
    pages = {page.url: page.body.decode() for page in renderer.site(
        [renderer.render_post(hidden), renderer.render_post(shown)]
    )}  # fmt: skip

    assert urls.lists_of(hidden, settings) == ()
    assert '<meta name="robots" content="noindex">' in pages[urls.post_url(hidden, settings)]
    assert "noindex" not in pages[urls.post_url(shown, settings)]
    listed = [body for url, body in pages.items() if url != urls.post_url(hidden, settings)]
    assert not any("Secret" in body for body in listed)
    assert any("Open" in body for url, body in pages.items() if url == "/atom.xml")


def test_updated_is_shown_only_when_it_differs_from_the_date(settings: Settings) -> None:
    post = make_post()
    same = Renderer(settings).render_post(replace(post, updated=post.date)).page.body.decode()
    later = replace(post, updated=post.date.replace(year=post.date.year + 1))
    differs = Renderer(settings).render_post(later).page.body.decode()

    assert "article:modified_time" not in same
    assert "article:modified_time" in differs


def test_warnings_reach_the_post_record_bounded_and_blogpub_status() -> None:
    many = tuple(f"line {n}: unknown tag 'x{n}': shown as text" for n in range(1, 40))
    record = PostRecord(source_key="_posts/a.md", sequencer="1", warnings=many)
    stored = PostRecord.from_values(record.to_values())

    assert len(stored.warnings) == MAX_WARNINGS + 1
    assert stored.warnings[-1] == f"... and {39 - MAX_WARNINGS} more warnings"
    assert bounded_warnings(("x" * 1000,)) == ("x" * 300,)
    line = StatusLine("2024-01-01T00:00:00Z", "_posts/a.md", "v1", "published", "/a/", None, None,
                      ("line 3: unknown tag 'bilibili': shown as text",))  # fmt: skip
    assert "      warning: line 3: unknown tag 'bilibili': shown as text" in format_status(
        [line], []
    )


def test_pygments_and_latex2mathml_load_only_for_a_post_that_needs_them() -> None:
    probe = (
        "import sys\n"
        f"sys.path.insert(0, {str(FUNCTIONS / 'render_post')!r})\n"
        "import app\n"
        "from blogpub.markup import render_body\n"
        "render_body('# Plain\\n\\nA $5 price and {% note %}x{% endnote %}.')\n"
        "assert 'pygments' not in sys.modules and 'latex2mathml' not in sys.modules\n"
        "render_body('```py\\nx = 1\\n```\\n\\n$a_1$')\n"
        "assert 'pygments' in sys.modules and 'latex2mathml' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_the_stylesheet_holds_the_highlighting_colours_light_and_dark() -> None:
    css = stylesheet().body.decode()

    highlight = (THEME / "highlight.css").read_text(encoding="utf-8")

    assert css.endswith(highlight)
    assert "figure.highlight" in highlight and "@media (prefers-color-scheme: dark)" in highlight


def test_a_fence_caption_is_a_figcaption_as_hexo_writes_it() -> None:
    body = "```c password.c\nint x;\n```\n\n```js a.js https://x.example/a Source\nx\n```\n"
    html = render_post_body(body, None, BodyOptions(site_url="https://x.example")).html

    assert (
        '<figure class="highlight c"><figcaption><span>password.c</span></figcaption><table>'
        in (html)
    )
    assert (
        '<figcaption><span>a.js</span><a href="https://x.example/a">Source</a></figcaption>'
    ) in html


def test_index_pages_render_without_the_body_pipeline() -> None:
    # Given BuildIndexesFunction's handler and a listing of one post, in a fresh interpreter
    probe = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        f"sys.path.insert(0, {str(FUNCTIONS / 'build_indexes')!r})\n"
        "import app\n"
        "import blogpub.indexes\n"
        "from blogpub.models import SITE, Entry\n"
        "from blogpub.pages import IndexPage\n"
        "from blogpub.render import MemoryListings, Renderer\n"
        "from blogpub.settings import Settings\n"
        "entry = Entry('_posts/a.md', 'A', '/2024/06/01/a/', datetime(2024, 6, 1, tzinfo=UTC),\n"
        "              excerpt_html='<p>An <em>excerpt</em></p>')\n"
        "settings = Settings()\n"
        "listings = MemoryListings(settings, {SITE.list_id: [entry]}, {SITE.list_id: SITE})\n"
        "renderer = Renderer(settings)\n"
        "for kind in ('landing', 'feed', 'month'):\n"
        "    page = IndexPage(kind, SITE, 2024, 6) if kind == 'month' else IndexPage(kind, SITE)\n"
        "    assert b'/2024/06/01/a/' in renderer.index_page(page, listings).body\n"
        "body_pipeline = ('blogpub.markup', 'blogpub.tags.model', 'cmarkgfm', 'nh3', 'pygments')\n"
        "assert not [name for name in body_pipeline if name in sys.modules], sys.modules.keys()\n"
        "assert 'yaml' not in sys.modules\n"
        "from blogpub.settings import load_settings\n"
        "assert load_settings(b'title: Mine\\n').title == 'Mine' and 'yaml' in sys.modules\n"
    )
    # When it imports the index builder and renders a landing, a feed and a month archive
    # Then Markdown, the sanitiser and the tag model were never loaded (they are the posts'),
    # nor YAML (the theme's words are JSON), which only a site's _config.yml loads
    subprocess.run([sys.executable, "-c", probe], check=True)
