"""How close blogpub's site is to Hexo 7's for one Hexo folder (`make fidelity HEXO=path`).

Builds the folder twice, with Hexo 7 (npm: hexo@7, hexo-renderer-marked, the default generators
and the site's theme when HEXO_THEMES knows it, else landscape: a known article container) and with
`blogpub local run`, then compares: URLs of posts, categories and tags; the article text of each
post (tags stripped, whitespace normalised, difflib ratio); raw `{%` left in pages; highlighted
code blocks; broken internal links and images. Writes a JSON report and prints a summary.
A dev tool: it never ships in the layer and is not part of `make test`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

REPO = Path(__file__).resolve().parents[1]
# The npm packages of the Hexo build; hexo-cli's `init` starter, pinned to Hexo 7.
HEXO_PACKAGES = {
    "hexo": "^7.3.0",
    "hexo-renderer-marked": "^6.0.0",
    "hexo-renderer-ejs": "^2.0.0",
    "hexo-renderer-stylus": "^3.0.0",
    "hexo-generator-archive": "^2.0.0",
    "hexo-generator-category": "^2.0.0",
    "hexo-generator-index": "^3.0.0",
    "hexo-generator-tag": "^2.0.0",
    "hexo-theme-landscape": "^1.0.0",
}
# Themes the Hexo build can use, from npm, with the class of their article body element:
# the site's own when listed (its tags, e.g. NexT's `note`, then build), else landscape.
HEXO_THEMES = {
    "landscape": ("hexo-theme-landscape", "^1.0.0", "article-entry"),
    "next": ("hexo-theme-next", "^8.20.0", "post-body"),
}
# The element each theme puts right after the article body: a post whose own HTML closes the
# body element early (a stray </div>) still shows the rest of its text up to there.
HEXO_BODY_ENDS = {"landscape": "article-footer", "next": "post-footer"}
# hexo-generator-feed, for a site whose _config.yml configures it (`feed:`): its posts link
# /atom.xml, which Hexo's own build must then have too.
HEXO_FEED = ("hexo-generator-feed", "^3.0.0")
BLOGPUB_BODY_CLASS = "post-body"  # blogpub theme/post.html
WORST = 10
_FAILED_POST = re.compile(r"(_posts/[^\s:\]\[]+?\.(?:md|markdown))")
_SKIPPED_TEXT = frozenset({"script", "style", "template"})
# Elements that separate words; inline ones (span, a, em, code…) do not, so a token split
# into spans by a highlighter reads as the same text.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
        "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


# --- pure parts: text, links, comparison -------------------------------------------------


class _ElementText(HTMLParser):
    """The text of the first element carrying ``css_class``, minus code gutters and scripts.

    Two rules make the builds comparable where the issue asks for other output than
    Hexo's, and drop nothing: a MathML formula reads as its TeX annotation between its
    ``$``/``$$`` (Hexo without a math plugin leaves the TeX as text); NexT's tabs (titles
    in a nav list, then the panes) read as each title before its pane, the document order
    in which blogpub shows every pane."""

    def __init__(self, css_class: str, until_class: str = "") -> None:
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.until_class = until_class  # read on, past the element's end, up to this one
        self.depth = 0  # open elements inside the wanted one, itself included
        self.skip_depth = 0  # > 0 inside a gutter or script within it
        self.done = False
        self.found = False
        self.parts: list[str] = []
        self.blocks = 0
        self.math: list[str] | None = None  # the TeX annotation of the open <math>
        self.math_delimiter = "$"
        self.in_annotation = False
        self.tab_titles: list[list[str]] = []  # per open NexT tabs, titles not yet placed
        self.tab_depths: list[int] = []  # depth at which each open tabs element started
        self.nav_depth = 0  # depth of the open ul.nav-tabs, 0 outside
        self.title: list[str] | None = None  # the nav-tabs item being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done or tag in _VOID:
            if self.depth and tag == "br":
                self.parts.append("\n")
            return
        classes = (dict(attrs).get("class") or "").split()
        if self.found and self.until_class and self.until_class in classes:
            self.done = True
            return
        if not self.depth:
            if self.css_class in classes:
                self.depth, self.found = 1, True
            return
        self.depth += 1
        if self.skip_depth:
            self.skip_depth += 1
        elif tag in _SKIPPED_TEXT or "gutter" in classes:
            self.skip_depth = 1
        if tag == "math":
            self.math = []
            self.math_delimiter = "$$" if dict(attrs).get("display") == "block" else "$"
        elif tag == "annotation" and self.math is not None:
            self.in_annotation = True
        elif "tabs" in classes and tag == "div":
            self.tab_titles.append([])
            self.tab_depths.append(self.depth)
        elif "nav-tabs" in classes and self.tab_depths:
            self.nav_depth = self.depth
        elif tag == "li" and self.nav_depth:
            self.title = []
        elif "tab-pane" in classes and self.tab_titles and self.tab_titles[-1]:
            self.parts.append(" " + self.tab_titles[-1].pop(0) + " ")
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.done or not self.depth or tag in _VOID:
            return
        if tag == "math" and self.math is not None:
            self.parts.append(f" {self.math_delimiter}{''.join(self.math)}{self.math_delimiter} ")
            self.math, self.in_annotation = None, False
        elif tag == "annotation":
            self.in_annotation = False
        elif tag == "li" and self.title is not None and self.tab_titles:
            self.tab_titles[-1].append("".join(self.title))
            self.title = None
        elif self.depth == self.nav_depth:
            self.nav_depth = 0
        elif self.tab_depths and self.depth == self.tab_depths[-1]:
            self.tab_depths.pop()
            self.parts.extend(f" {title} " for title in self.tab_titles.pop())
        self.depth -= 1
        if self.skip_depth:
            self.skip_depth -= 1
        if tag in _BLOCKS:
            self.parts.append(" ")
        if not self.depth:
            if self.until_class:  # closed early by the post's own HTML: the text goes on
                self.depth = 1
            else:
                self.done = True

    def handle_data(self, data: str) -> None:
        if not self.depth or self.skip_depth or self.done:
            return
        if self.math is not None:
            if self.in_annotation:
                self.math.append(data)
        elif self.title is not None:
            self.title.append(data)
        elif not self.nav_depth:
            self.parts.append(data)


def normalise_text(text: str) -> str:
    """Whitespace runs to one space, ends trimmed."""
    return " ".join(text.split())


def element_text(page: str, css_class: str, until_class: str = "") -> str | None:
    """The normalised text of the page's first element with ``css_class``, or None; with
    ``until_class``, the text from that element's start up to the first element with
    ``until_class``, as a reader sees it even where the post's HTML closes the element early."""
    parser = _ElementText(css_class, until_class)
    parser.feed(page)
    parser.close()
    return normalise_text("".join(parser.parts)) if parser.found else None


def similarity(left: str, right: str) -> float:
    """difflib's ratio of two texts (1.0 when both are empty)."""
    if left == right:
        return 1.0
    return difflib.SequenceMatcher(None, left, right).ratio()


_CODE_ELEMENT = re.compile(r"<(pre|code)\b[^>]*>.*?</\1>", re.DOTALL | re.IGNORECASE)


def raw_tag_count(page: str) -> int:
    """How many ``{%`` or ``%}`` the page has outside ``<pre>``/``<code>`` (tags left raw)."""
    outside = _CODE_ELEMENT.sub("", page)
    return outside.count("{%") + outside.count("%}") + outside.count("{&#37;")


def highlighted_blocks(page: str) -> int:
    """Code blocks laid out by a highlighter (hexo-util's ``<figure class="highlight …">``)."""
    return len(re.findall(r'<figure class="highlight[ "]', page))


class _References(HTMLParser):
    """``<a href>`` and ``<img src>``, of the whole page or only inside the first element
    carrying ``css_class``."""

    def __init__(self, css_class: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.depth = 0 if css_class else 1
        self.done = False
        self.found: list[tuple[str, str]] = []  # (kind, target)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        values = dict(attrs)
        if not self.depth:
            if self.css_class in (values.get("class") or "").split():
                self.depth = 1
            return
        if tag not in _VOID:
            self.depth += 1
        if tag == "a" and values.get("href"):
            self.found.append(("link", str(values["href"])))
        elif tag in ("img", "source") and values.get("src"):
            self.found.append(("image", str(values["src"])))

    def handle_endtag(self, tag: str) -> None:
        if self.css_class and self.depth and not self.done and tag not in _VOID:
            self.depth -= 1
            self.done = not self.depth


def page_references(page: str, css_class: str | None = None) -> list[tuple[str, str]]:
    """(``link``|``image``, target) of every ``<a href>`` and ``<img src>`` of a page, or
    of its first element with ``css_class``."""
    parser = _References(css_class)
    parser.feed(page)
    parser.close()
    return parser.found


def internal_path(target: str, page_path: str, site_url: str, root: str) -> str | None:
    """The decoded site path (without ``root``) a reference points at, or None when it
    leaves the site (another host, mailto:, a bare #fragment…)."""
    parts = urlsplit(target)
    site = urlsplit(site_url)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    if parts.netloc and parts.netloc != site.netloc:
        return None
    if not parts.path:
        return None
    path = unquote(parts.path)
    if not path.startswith("/"):
        base = page_path if page_path.endswith("/") else page_path.rsplit("/", 1)[0] + "/"
        path = os.path.normpath("/" + root.strip("/") + "/" + base.lstrip("/") + path)
        path += "/" if parts.path.endswith("/") else ""
    elif "/." in path:  # a browser drops dot segments: Hexo's url_for writes "/../images/x"
        path = os.path.normpath(path) + ("/" if path.endswith("/") else "")
    if not path.startswith(root):
        return None
    return "/" + path[len(root) :].lstrip("/")


def resolves(site_dir: Path, path: str) -> bool:
    """Whether a decoded site path names a file of the built site (``dir/`` -> index.html)."""
    relative = path.lstrip("/")
    candidate = site_dir / relative
    if path.endswith("/") or not relative:
        return (candidate / "index.html").is_file()
    return candidate.is_file() or (candidate / "index.html").is_file()


def broken_references(
    pages: Mapping[str, str],
    site_dir: Path,
    site_url: str,
    root: str,
    css_class: str | None = None,
) -> dict[str, Any]:
    """Internal links and images of ``pages`` (site path -> HTML; only those inside the
    element with ``css_class`` when given) that resolve to nothing."""
    broken: dict[str, list[tuple[str, str]]] = {"link": [], "image": []}
    missing: set[str] = set()  # the site paths they resolve to: one per missing file
    for page_path, page in sorted(pages.items()):
        for kind, target in page_references(page, css_class):
            path = internal_path(target, page_path, site_url, root)
            if path is not None and not resolves(site_dir, path):
                broken[kind].append((page_path, target))
                missing.add(path)
    return {
        "links": len(broken["link"]),
        "images": len(broken["image"]),
        "distinct_targets": len({target for found in broken.values() for _, target in found}),
        "distinct_paths": len(missing),
        "examples": [
            {"kind": kind, "page": page, "target": target}
            for kind in ("link", "image")
            for page, target in broken[kind][:WORST]
        ],
    }


@dataclass
class Build:
    """One build of the site: where it is and what it made."""

    site_dir: Path
    posts: dict[str, str]  # source path below the posts folder -> decoded post path
    categories: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    pages: dict[str, str] = field(default_factory=dict)  # decoded page path -> HTML
    body_class: str = ""
    failed_posts: list[str] = field(default_factory=list)
    body_end_class: str = ""  # the element after the body (HEXO_BODY_ENDS), if known


def site_pages(site_dir: Path) -> dict[str, str]:
    """Every ``index.html`` of a built site by its decoded path (``/a/b/``)."""
    pages = {}
    for file in site_dir.rglob("*.html"):
        relative = file.relative_to(site_dir).as_posix()
        path = "/" + (relative[: -len("index.html")] if file.name == "index.html" else relative)
        pages[path] = file.read_text(encoding="utf-8", errors="replace")
    return pages


_NOT_A_LISTING = re.compile(r"/page/\d+/$|/\d{4}/(?:\d{2}/)?$")


def listing_paths(pages: Iterable[str], directory: str) -> set[str]:
    """The first pages of the listings under ``/directory/`` (later pages and blogpub's
    month pages of a listing left out)."""
    prefix = "/" + directory.strip("/") + "/"
    return {
        path
        for path in pages
        if path.startswith(prefix)
        and path != prefix
        and path.endswith("/")
        and not _NOT_A_LISTING.search(path)
    }


def _url_table(left: set[str], right: set[str]) -> dict[str, Any]:
    return {
        "hexo": len(left),
        "blogpub": len(right),
        "matching": len(left & right),
        "agreement": round(len(left & right) / len(left | right), 4) if left | right else 1.0,
        "only_hexo": sorted(left - right)[:WORST],
        "only_blogpub": sorted(right - left)[:WORST],
    }


def compare(hexo: Build, blogpub: Build, site_url: str, root: str) -> dict[str, Any]:
    """The report: URL agreement, article text similarity, raw tags, highlighting, links."""
    same_source = sorted(set(hexo.posts) & set(blogpub.posts))
    # URLs of the posts both builds made (a post Hexo set aside is listed, not compared)
    post_urls = _url_table(
        {hexo.posts[s] for s in same_source}, {blogpub.posts[s] for s in same_source}
    )
    post_urls["same_url_for_same_file"] = sum(
        hexo.posts[s] == blogpub.posts[s] for s in same_source
    )
    post_urls["built_by_hexo"] = len(hexo.posts)
    post_urls["built_by_blogpub"] = len(blogpub.posts)
    post_urls["only_built_by_hexo"] = sorted(set(hexo.posts) - set(blogpub.posts))[:WORST]
    post_urls["only_built_by_blogpub"] = sorted(set(blogpub.posts) - set(hexo.posts))[:WORST]
    scores: list[dict[str, Any]] = []
    for source in same_source:
        left = element_text(
            hexo.pages.get(hexo.posts[source], ""), hexo.body_class, hexo.body_end_class
        )
        right = element_text(blogpub.pages.get(blogpub.posts[source], ""), blogpub.body_class)
        if left is None or right is None:
            scores.append({"post": source, "ratio": 0.0, "missing_body": True})
            continue
        scores.append({"post": source, "ratio": round(similarity(left, right), 4)})
    ratios: list[float] = [score["ratio"] for score in scores]
    report: dict[str, Any] = {
        "urls": {
            "posts": post_urls,
            "categories": _url_table(hexo.categories, blogpub.categories),
            "tags": _url_table(hexo.tags, blogpub.tags),
        },
        "text": {
            "compared": len(scores),
            "mean": round(sum(ratios) / len(ratios), 4) if ratios else None,
            "min": min(ratios) if ratios else None,
            "at_least_0_99": sum(ratio >= 0.99 for ratio in ratios),
            "worst": sorted(scores, key=lambda score: score["ratio"])[:WORST],
        },
        "hexo_failed_posts": hexo.failed_posts,
        "blogpub_failed_posts": blogpub.failed_posts,
    }
    for name, build in (("hexo", hexo), ("blogpub", blogpub)):
        post_pages = {build.posts[s]: build.pages.get(build.posts[s], "") for s in build.posts}
        raw = {path: raw_tag_count(page) for path, page in build.pages.items()}
        report.setdefault("raw_tags", {})[name] = {
            "pages": sum(count > 0 for count in raw.values()),
            "occurrences": sum(raw.values()),
            "examples": sorted(path for path, count in raw.items() if count)[:WORST],
        }
        # counted on the posts both builds made (a post Hexo set aside has code too)
        compared = [build.pages.get(build.posts[s], "") for s in same_source]
        report.setdefault("highlighted_blocks", {})[name] = {
            "highlighted": sum(highlighted_blocks(page) for page in compared),
            "code_blocks": sum(page.count("<pre") for page in compared)
            - sum(page.count('<td class="gutter"><pre') for page in compared),
            "highlighted_in_all_built_posts": sum(
                highlighted_blocks(page) for page in post_pages.values()
            ),
        }
        report.setdefault("broken", {})[name] = broken_references(
            build.pages, build.site_dir, site_url, root
        )
        # the theme differs (landscape's chrome against blogpub's): the post bodies compare
        report.setdefault("broken_in_post_bodies", {})[name] = broken_references(
            post_pages, build.site_dir, site_url, root, build.body_class
        )
    return report


def summary(report: Mapping[str, Any]) -> str:
    """The report in a few readable lines."""
    lines = [f"fidelity of {report.get('site', '?')}"]
    for kind, table in report["urls"].items():
        lines.append(
            f"  {kind:<10} urls: hexo {table['hexo']}, blogpub {table['blogpub']}, "
            f"matching {table['matching']} (agreement {table['agreement']})"
        )
    text = report["text"]
    lines.append(
        f"  text: {text['compared']} posts compared, mean {text['mean']}, min {text['min']}, "
        f"{text['at_least_0_99']} at >= 0.99"
    )
    for worst in text["worst"][:5]:
        lines.append(f"    {worst['ratio']:.4f}  {worst['post']}")
    for name in ("hexo", "blogpub"):
        raw, code, broken, body = (
            report[k][name]
            for k in ("raw_tags", "highlighted_blocks", "broken", "broken_in_post_bodies")
        )
        lines.append(
            f"  {name:<8} raw tags on {raw['pages']} pages; highlighted {code['highlighted']} of "
            f"{code['code_blocks']} code blocks in the posts both built "
            f"({code['highlighted_in_all_built_posts']} in all it built); "
            f"broken links {broken['links']}, "
            f"images {broken['images']}, missing files {broken['distinct_paths']} "
            f"(in post bodies: links {body['links']}, images {body['images']})"
        )
    if report["hexo_failed_posts"]:
        lines.append(f"  Hexo could not build: {', '.join(report['hexo_failed_posts'])}")
    if report["blogpub_failed_posts"]:
        lines.append(f"  blogpub rejected: {len(report['blogpub_failed_posts'])} posts")
    return "\n".join(lines)


# --- the builds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A Hexo folder: its _config.yml and where its posts are."""

    folder: Path
    config: dict[str, Any]
    posts_dir: Path  # source/_posts, or the folder itself for a folder of posts
    source_dir: Path | None  # source/, when the folder is a whole Hexo site

    @property
    def url(self) -> str:
        return str(self.config.get("url") or "http://example.com").rstrip("/")


def load_site(folder: Path) -> Site:
    config = yaml.safe_load((folder / "_config.yml").read_text(encoding="utf-8-sig")) or {}
    source = folder / "source"
    if (source / "_posts").is_dir():
        return Site(folder, config, source / "_posts", source)
    return Site(folder, config, folder, None)


def _root(site: Site) -> str:
    root = "/" + str(site.config.get("root") or "/").strip("/") + "/"
    return "/" if root == "//" else root


def _site_path(url: str, root: str) -> str:
    path = unquote(urlsplit(url).path)
    path = "/" + path[len(root) :] if path.startswith(root) else path
    return path if path.endswith("/") or path.endswith(".html") else path + "/"


def _post_files(folder: Path) -> list[Path]:
    return [
        file
        for file in folder.rglob("*")
        if file.is_file() and file.suffix in (".md", ".markdown") and file.name != "README.md"
    ]


def _npm_project(cache: Path, theme: str) -> Path:
    """A node_modules with Hexo 7 and the theme, installed once per cache folder."""
    project = cache / "hexo7"
    if not (project / "node_modules" / "hexo").is_dir():
        project.mkdir(parents=True, exist_ok=True)
        manifest = {
            "name": "hexo-fidelity",
            "private": True,
            "hexo": {"version": ""},  # hexo-cli runs `generate` only in a folder that has it
            "dependencies": HEXO_PACKAGES,
        }
        (project / "package.json").write_text(json.dumps(manifest, indent=2))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=project, check=True)
    theme_package, version, _ = HEXO_THEMES[theme]
    for package, wanted in ((theme_package, version), HEXO_FEED):
        if not (project / "node_modules" / package).is_dir():
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", f"{package}@{wanted}"],
                cwd=project,
                check=True,
            )
    return project


# A Hexo site script: the posts' sources and paths (db.json has no `path`, a virtual).
_DUMP_POSTS = """\
hexo.extend.filter.register('after_generate', function () {
  const posts = hexo.locals.get('posts').toArray().map(post => ({
    source: post.source, path: post.path, published: post.published
  }));
  require('fs').writeFileSync(
    require('path').join(hexo.base_dir, 'fidelity-posts.json'), JSON.stringify(posts));
});
"""


def _theme(site: Site) -> str:
    theme = str(site.config.get("theme") or "landscape")
    return theme if theme in HEXO_THEMES else "landscape"


def build_hexo(site: Site, work: Path, cache: Path, attempts: int = 100) -> Build:
    """Generate the site with Hexo 7; a post that aborts Hexo's build is set aside and the
    build retried, so the comparison covers every post Hexo itself builds."""
    theme = _theme(site)
    project = _npm_project(cache, theme)
    hexo_dir = work / "hexo"
    shutil.rmtree(hexo_dir, ignore_errors=True)
    (hexo_dir / "source").mkdir(parents=True)
    if site.source_dir is not None:
        shutil.copytree(site.source_dir, hexo_dir / "source", dirs_exist_ok=True)
    else:
        shutil.copytree(
            site.folder,
            hexo_dir / "source" / "_posts",
            ignore=shutil.ignore_patterns("_config.yml", "node_modules", ".git", "themes"),
        )
    config = dict(site.config)
    config["theme"] = theme
    config.pop("deploy", None)
    (hexo_dir / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    manifest = json.loads((project / "package.json").read_text())
    if "feed" not in site.config:  # Hexo loads the plugins its package.json lists
        manifest.get("dependencies", {}).pop(HEXO_FEED[0], None)
    (hexo_dir / "package.json").write_text(json.dumps(manifest, indent=2))
    (hexo_dir / "node_modules").symlink_to(project / "node_modules")
    (hexo_dir / "scripts").mkdir()
    (hexo_dir / "scripts" / "fidelity-posts.js").write_text(_DUMP_POSTS)
    failed: list[str] = []
    for _ in range(attempts):
        done = subprocess.run(
            [str(project / "node_modules" / ".bin" / "hexo"), "generate"],
            check=False,
            cwd=hexo_dir,
            # Hexo formats permalink dates in the machine's zone: build as the author would
            env=os.environ
            | {"TZ": str(site.config.get("timezone") or os.environ.get("TZ", "UTC"))},
            capture_output=True,
            text=True,
            timeout=1800,
        )
        output = done.stdout + done.stderr
        failing = _FAILED_POST.search(output) if done.returncode or "Error" in output else None
        if failing is None:
            break
        bad = hexo_dir / "source" / failing.group(1)
        if not bad.is_file():
            raise RuntimeError(f"hexo generate failed:\n{output[-3000:]}")
        failed.append(failing.group(1).removeprefix("_posts/"))
        bad.unlink()
    (work / "hexo-failed.json").write_text(json.dumps(failed))
    return read_hexo(site, work)


def read_hexo(site: Site, work: Path) -> Build:
    """The Hexo build left in ``work`` by ``build_hexo``."""
    hexo_dir = work / "hexo"
    public = hexo_dir / "public"
    root = _root(site)
    failed = json.loads((work / "hexo-failed.json").read_text())
    posts = {
        post["source"].removeprefix("_posts/"): _site_path(root + post["path"], root)
        for post in json.loads((hexo_dir / "fidelity-posts.json").read_text(encoding="utf-8"))
        if post.get("published", True)
    }
    pages = site_pages(public)
    return Build(
        public,
        posts,
        listing_paths(pages, str(site.config.get("category_dir") or "categories")),
        listing_paths(pages, str(site.config.get("tag_dir") or "tags")),
        pages,
        HEXO_THEMES[_theme(site)][2],
        failed,
        HEXO_BODY_ENDS[_theme(site)],
    )


def build_blogpub(site: Site, work: Path) -> Build:
    """The same posts through ``blogpub local run`` (posts under the posts prefix)."""
    staging = work / "blogpub-posts"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(
        site.posts_dir,
        staging,
        ignore=shutil.ignore_patterns("_config.yml", "node_modules", ".git", "themes"),
    )
    shutil.copy(site.folder / "_config.yml", staging / "_config.yml")
    site_dir = work / "blogpub-site"
    shutil.rmtree(site_dir, ignore_errors=True)
    report_path = work / "blogpub-report.json"
    blogpub = Path(sys.executable).parent / "blogpub"
    if not blogpub.is_file():  # run with a Python that has no blogpub: say so, not a traceback
        found = shutil.which("blogpub")
        if found is None:
            raise SystemExit(
                "hexo-fidelity: no `blogpub` command beside this Python or on PATH; "
                "run it through the project's venv: make fidelity HEXO=path"
            )
        blogpub = Path(found)
    with (work / "blogpub-run.log").open("w") as log:
        subprocess.run(
            [
                str(blogpub),
                "local",
                "run",
                str(staging),
                "--out",
                str(site_dir),
                "--report",
                str(report_path),
                "--timeout",
                "3600",
            ],
            check=False,
            timeout=7200,
            cwd=REPO,  # `local run` reads template.yaml from the working folder
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return read_blogpub(site, work)


def read_blogpub(site: Site, work: Path) -> Build:
    """The blogpub build left in ``work`` by ``build_blogpub``."""
    site_dir = work / "blogpub-site"
    report_path = work / "blogpub-report.json"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    root = _root(site)
    posts, failed = {}, []
    for post in report.get("posts", []):
        source = str(post["source_key"]).split("/", 1)[1]
        if post.get("url"):
            posts[source] = _site_path(str(post["url"]), root)
        else:
            failed.append(source)
    pages = site_pages(site_dir)
    return Build(
        site_dir,
        posts,
        listing_paths(pages, str(site.config.get("category_dir") or "categories")),
        listing_paths(pages, str(site.config.get("tag_dir") or "tags")),
        pages,
        BLOGPUB_BODY_CLASS,
        failed,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hexo-fidelity", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a Hexo site, or posts with _config.yml beside")
    parser.add_argument("--work", type=Path, help="build folder (default: /tmp/hexo-fidelity/NAME)")
    parser.add_argument("--report", type=Path, help="JSON report (default: WORK/fidelity.json)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "blogpub-fidelity")
    parser.add_argument(
        "--reuse", action="store_true", help="compare the builds already in WORK again"
    )
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    if not (folder / "_config.yml").is_file():
        parser.error(f"{folder}: no _config.yml")
    site = load_site(folder)
    work = (args.work or Path("/tmp/hexo-fidelity") / folder.name).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.reuse:
        hexo, blogpub = read_hexo(site, work), read_blogpub(site, work)
    else:
        hexo, blogpub = build_hexo(site, work, args.cache), build_blogpub(site, work)
    report = {"site": str(folder), "posts_in_folder": len(_post_files(site.posts_dir))}
    report |= compare(hexo, blogpub, site.url, _root(site))
    report_path = args.report or work / "fidelity.json"
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(summary(report))
    print(f"report: {report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
