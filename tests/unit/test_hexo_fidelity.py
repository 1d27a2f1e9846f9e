"""The fidelity tool's pure parts on tiny made-up sites: text, links, the comparison."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import REPO

# scripts/ is a folder of tools, not a package.
sys.path.insert(0, str(REPO / "scripts"))

import hexo_fidelity as fidelity

HEXO_POST = """<html><body><article><div class="e-content article-entry" itemprop="articleBody">
<p>Hello <strong>world</strong> &amp; friends</p>
<figure class="highlight js"><table><tr><td class="gutter"><pre><span class="line">1</span><br>
</pre></td><td class="code"><pre><span class="line">x = 1;</span><br></pre></td></tr></table>
</figure>
<script>var tracked = 1;</script>
<div class="nested"><p>inner</p></div>
</div><footer>Share this</footer></article></body></html>"""

BLOGPUB_POST = """<html><body><article class="post"><div class="post-body">
<p>Hello <strong>world</strong> &amp; friends</p>
<pre><code class="language-js">x = 1;
</code></pre>
<div class="nested"><p>inner</p></div>
</div><footer>tags</footer></article></body></html>"""


def test_article_text_strips_tags_gutters_and_scripts() -> None:
    hexo = fidelity.element_text(HEXO_POST, "article-entry")
    blogpub = fidelity.element_text(BLOGPUB_POST, "post-body")
    assert hexo == "Hello world & friends x = 1; inner"
    assert blogpub == hexo
    assert fidelity.element_text("<p>no body</p>", "post-body") is None


def test_inline_elements_do_not_split_words() -> None:
    highlighted = (
        '<div class="post-body"><p>a<em>b</em>c</p><pre><span class="k">def</span>'
        '<span class="nf">f</span>():<br>x</pre><p>next</p></div>'
    )
    assert fidelity.element_text(highlighted, "post-body") == "abc deff(): x next"


def test_similarity_is_difflibs_ratio() -> None:
    assert fidelity.similarity("abcd", "abcd") == 1.0
    assert fidelity.similarity("abcd", "abce") == 0.75
    assert fidelity.similarity("", "") == 1.0


def test_raw_tags_outside_code_are_counted() -> None:
    assert fidelity.raw_tag_count("<p>{% asset_img a.png %}</p>") == 2
    assert fidelity.raw_tag_count("<pre><code>{% raw %}</code></pre><code>%}</code>") == 0
    assert fidelity.raw_tag_count('<meta content="{% note %}">') == 2


def test_highlighted_blocks_are_hexo_util_figures() -> None:
    assert fidelity.highlighted_blocks(HEXO_POST) == 1
    assert fidelity.highlighted_blocks(BLOGPUB_POST) == 0
    assert fidelity.highlighted_blocks('<figure class="highlighted-quote">') == 0


def test_internal_paths_resolve_relative_and_absolute_references() -> None:
    url, root = "https://blog.example.com", "/blog/"
    assert fidelity.internal_path("/blog/a/b/", "/x/", url, root) == "/a/b/"
    assert fidelity.internal_path("https://blog.example.com/blog/c.png", "/", url, root) == (
        "/c.png"
    )
    assert fidelity.internal_path("img/%E5%9B%BE.png", "/2020/01/p/", url, root) == (
        "/2020/01/p/img/图.png"
    )
    assert fidelity.internal_path("../q/", "/2020/01/p/", url, root) == "/2020/01/q/"
    assert fidelity.internal_path("https://other.example/blog/", "/", url, root) is None
    assert fidelity.internal_path("mailto:a@b.c", "/", url, root) is None
    assert fidelity.internal_path("#top", "/", url, root) is None
    assert fidelity.internal_path("/elsewhere/", "/", url, root) is None
    # a browser drops dot segments of absolute paths too (Hexo's url_for of "../images/x.png")
    assert fidelity.internal_path("/blog/../blog/images/x.png", "/a/", url, root) == (
        "/images/x.png"
    )
    assert fidelity.internal_path("/../images/x.png", "/a/", "https://b.example", "/") == (
        "/images/x.png"
    )
    assert fidelity.internal_path("/a/./b/", "/", "https://b.example", "/") == "/a/b/"


def test_references_of_one_element_only() -> None:
    page = (
        '<a href="/nav/">n</a><div class="post-body"><div><a href="/in/">i</a></div>'
        '<img src="/in.png"></div><a href="/after/">a</a>'
    )
    assert fidelity.page_references(page, "post-body") == [("link", "/in/"), ("image", "/in.png")]
    assert len(fidelity.page_references(page)) == 4


def _site(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        file = tmp_path / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return tmp_path


def test_broken_references_in_a_tiny_site(tmp_path: Path) -> None:
    page = (
        '<a href="/a/">ok</a><a href="/missing/">gone</a><img src="/a/pic.png">'
        '<img src="/a/none.png"><a href="https://elsewhere.example/x">ext</a>'
        '<a href="/a/page.html">ok</a>'
    )
    site = _site(
        tmp_path,
        {"index.html": page, "a/index.html": "", "a/pic.png": "", "a/page.html": ""},
    )
    pages = fidelity.site_pages(site)
    assert set(pages) == {"/", "/a/", "/a/page.html"}
    broken = fidelity.broken_references(pages, site, "http://example.com", "/")
    assert (broken["links"], broken["images"], broken["distinct_targets"]) == (1, 1, 2)
    assert {(e["kind"], e["target"]) for e in broken["examples"]} == {
        ("link", "/missing/"),
        ("image", "/a/none.png"),
    }


def test_listing_paths_leave_out_later_and_month_pages() -> None:
    pages = [
        "/tags/",
        "/tags/js/",
        "/tags/js/page/2/",
        "/tags/js/2020/08/",
        "/tags/js/atom.xml",
        "/categories/a/b/",
        "/tags/2024/",
    ]
    assert fidelity.listing_paths(pages, "tags") == {"/tags/js/"}
    assert fidelity.listing_paths(pages, "categories") == {"/categories/a/b/"}


def test_compare_two_tiny_builds(tmp_path: Path) -> None:
    hexo_dir = _site(tmp_path / "hexo", {"p/index.html": HEXO_POST, "q/index.html": HEXO_POST})
    blogpub_dir = _site(
        tmp_path / "blogpub",
        {
            "p/index.html": BLOGPUB_POST,
            "r/index.html": BLOGPUB_POST.replace("friends", "{% note %} x"),
            "t/index.html": HEXO_POST,  # a post Hexo could not build: not compared
        },
    )
    hexo = fidelity.Build(
        hexo_dir,
        {"p.md": "/p/", "q.md": "/q/"},
        categories={"/categories/a/"},
        tags={"/tags/x/", "/tags/y/"},
        pages=fidelity.site_pages(hexo_dir),
        body_class="article-entry",
    )
    blogpub = fidelity.Build(
        blogpub_dir,
        {"p.md": "/p/", "q.md": "/r/", "t.md": "/t/"},
        categories={"/categories/a/"},
        tags={"/tags/x/"},
        pages=fidelity.site_pages(blogpub_dir),
        body_class="post-body",
        failed_posts=["s.md"],
    )
    report = fidelity.compare(hexo, blogpub, "http://example.com", "/")
    posts = report["urls"]["posts"]
    assert (posts["matching"], posts["only_hexo"], posts["only_blogpub"]) == (1, ["/q/"], ["/r/"])
    assert posts["same_url_for_same_file"] == 1
    assert (posts["built_by_hexo"], posts["built_by_blogpub"]) == (2, 3)
    assert report["urls"]["categories"]["agreement"] == 1.0
    assert report["urls"]["tags"]["agreement"] == 0.5
    ratios = {score["post"]: score["ratio"] for score in report["text"]["worst"]}
    assert ratios["p.md"] == 1.0 and ratios["q.md"] < 0.99
    assert report["text"]["at_least_0_99"] == 1
    assert report["raw_tags"]["blogpub"]["pages"] == 1 and report["raw_tags"]["hexo"]["pages"] == 0
    assert report["highlighted_blocks"]["hexo"] == {
        "highlighted": 2,
        "code_blocks": 2,
        "highlighted_in_all_built_posts": 2,
    }
    assert report["highlighted_blocks"]["blogpub"] == {
        "highlighted": 0,
        "code_blocks": 2,
        "highlighted_in_all_built_posts": 1,
    }
    assert report["blogpub_failed_posts"] == ["s.md"]
    assert report["broken_in_post_bodies"]["hexo"]["links"] == 0
    text = fidelity.summary(report)
    assert "text: 2 posts compared" in text and "blogpub rejected: 1 posts" in text


def test_next_tabs_read_as_each_title_before_its_pane_as_blogpub_shows_them() -> None:
    hexo = (
        '<div class="post-body"><p>Intro</p><div class="tabs" id="t"><ul class="nav-tabs">'
        '<li class="tab active"><a href="#t-1">First <code>one</code></a></li>'
        '<li class="tab"><a href="#t-2">Second</a></li><li class="tab"><a>Orphan</a></li>'
        '</ul><div class="tab-content"><div class="tab-pane active" id="t-1"><p>alpha</p>'
        '</div><div class="tab-pane" id="t-2"><p>beta</p></div></div></div><p>End</p></div>'
    )
    blogpub = (
        '<div class="post-body"><p>Intro</p><div class="tabs"><section class="tab-pane">'
        '<h4 class="tab-title">First <code>one</code></h4><p>alpha</p></section>'
        '<section class="tab-pane"><h4 class="tab-title">Second</h4><p>beta</p></section>'
        "</div><p>End</p></div>"
    )
    hexo_text = fidelity.element_text(hexo, "post-body")

    assert hexo_text == "Intro First one alpha Second beta Orphan End"  # nothing dropped
    assert fidelity.element_text(blogpub, "post-body") == "Intro First one alpha Second beta End"


def test_a_formula_reads_as_its_tex_between_its_dollars() -> None:
    blogpub = (
        '<div class="post-body"><p>So <math display="inline"><semantics><mrow><mi>a</mi>'
        '</mrow><annotation encoding="application/x-tex">a_1 &lt; b</annotation></semantics>'
        '</math> and</p><math display="block"><semantics><mi>x</mi><annotation '
        'encoding="application/x-tex">\\frac{1}{2}</annotation></semantics></math></div>'
    )

    assert fidelity.element_text(blogpub, "post-body") == "So $a_1 < b$ and $$\\frac{1}{2}$$"


def test_a_body_closed_early_by_the_posts_own_html_reads_on_to_the_themes_footer() -> None:
    page = (
        '<article><div class="post-body"><p>one</p></div>'  # a stray </div> in the post
        '<p>two</p></div><footer class="post-footer">tags</footer><p>after</p></article>'
    )
    assert fidelity.element_text(page, "post-body") == "one"
    assert fidelity.element_text(page, "post-body", "post-footer") == "one two"
    assert set(fidelity.HEXO_BODY_ENDS) == set(fidelity.HEXO_THEMES)


def test_one_missing_file_named_two_ways_is_one_missing_path(tmp_path: Path) -> None:
    site = _site(
        tmp_path,
        {
            "index.html": '<img src="/images/x.png"><img src="images/x.png">',
            "a/index.html": '<img src="../images/x.png"><img src="/images/y.png">',
        },
    )
    broken = fidelity.broken_references(fidelity.site_pages(site), site, "http://e.com", "/")
    assert (broken["images"], broken["distinct_targets"], broken["distinct_paths"]) == (4, 4, 2)
