"""Every URL rule of the site, in one place.

Post URLs follow Hexo's permalink tokens; index URLs are ours and stay stable as the site
grows (docs/design.md, invariant 2): a landing page per listing plus one archive per month, never
Hexo's newest-first ``page/N`` pagination. Paths are handled decoded ("/tags/中文/") and
percent-encoded only at the edges: ``href`` for links, ``encode_path`` for the wire and for
CloudFront invalidations.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, unquote, urljoin, urlsplit

from blogpub import dates
from blogpub.errors import PermalinkError
from blogpub.models import SITE, ListRef, Post

if TYPE_CHECKING:
    from blogpub.settings import Settings

OverviewKind = Literal["category", "tag"]

# Hexo's default_category: what `:category` becomes for a post without categories.
DEFAULT_CATEGORY = "uncategorized"

ARCHIVES_DIR = "archives"
CATEGORIES_DIR = "categories"
TAGS_DIR = "tags"
SITEMAPS_DIR = "sitemaps"
FEED_NAME = "atom.xml"
SITEMAP_INDEX_PATH = "/sitemap.xml"
NOT_FOUND_PATH = "/404.html"
ROBOTS_PATH = "/robots.txt"
HOME_PATH = "/"

# Index pages live here; a post URL inside them would overwrite an index page.
_RESERVED_DIRS = (ARCHIVES_DIR, CATEGORIES_DIR, TAGS_DIR, SITEMAPS_DIR)
_RESERVED_FILES = (f"/{FEED_NAME}", SITEMAP_INDEX_PATH, NOT_FOUND_PATH, ROBOTS_PATH)

# WHATWG URL parsing: a scheme is a letter then letters, digits, "+", "-" or "." up to ":".
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Browsers drop tabs and newlines anywhere in a URL, and C0 controls and spaces before it.
_URL_NOISE = re.compile(r"[\t\n\r]")
_URL_LEADING_JUNK = "".join(chr(code) for code in range(0x21))

# hexo-util Permalink: a token is ":" + word characters not ending in "_" (ASCII \w, as in JS).
_TOKEN = re.compile(r":([A-Za-z0-9_]*[A-Za-z0-9])")
# Zero-width, bidi controls and isolates, word joiner and invisible operators, soft hyphen,
# Arabic letter mark, Mongolian vowel separator, Hangul fillers, tag characters.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\uffa0\U000e0000-\U000e007f]"
)
# Hexo's filename_case (hexo-util slugize's transform): 0 keeps the case.
FILENAME_CASE_LOWER = 1
FILENAME_CASE_UPPER = 2
# A category or tag segment: ten levels of it stay well inside every key limit.
MAX_SLUG_BYTES = 80
# hexo-util slugize: control characters go, runs of whitespace and specials become "-".
_CONTROL = re.compile(r"[\u0000-\u001f]")
# JavaScript's \s (not Python's: U+0085 is no space to JS) and the specials, in runs.
_SPECIAL = re.compile(
    r"[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
    r"""~`!@#$%^&*()\-_+=\[\]{}|\\;:"'<>,.?/]+"""
)

# Latin letters without a Unicode decomposition that hexo-util's diacritic table still folds.
_FOLDED_LETTERS = {
    "Æ": "AE",
    "æ": "ae",
    "Ø": "O",
    "ø": "o",
    "Œ": "OE",
    "œ": "oe",
    "Đ": "D",
    "đ": "d",
    "Ł": "L",
    "ł": "l",
    "Ħ": "H",
    "ħ": "h",
    "Ŧ": "T",
    "ŧ": "t",
    "ß": "s",
    "ẞ": "S",
    "ı": "i",
    "Ŀ": "L",
    "ŀ": "l",
    "ŉ": "n",
    "ſ": "l",  # sic: hexo-util files the long s under "l", and Hexo's URLs are the reference
}
# Decomposable letters hexo-util's table leaves as they are.
_KEPT_LETTERS = frozenset({"Ĳ", "ĳ"})


def _is_foldable_latin(char: str) -> bool:
    """Latin (and full-width/circled Latin) letters: the scripts hexo-util's table covers.

    Folding is limited to them on purpose: a general NFKD would also strip the dakuten of
    Japanese kana and split Hangul syllables, which Hexo keeps.
    """
    code = ord(char)
    return (
        0x00C0 <= code <= 0x024F
        or 0x1E00 <= code <= 0x1EFF
        or 0x24B6 <= code <= 0x24E9
        or 0xFF21 <= code <= 0xFF3A
        or 0xFF41 <= code <= 0xFF5A
    )


def _fold_diacritic(char: str) -> str:
    if char in _FOLDED_LETTERS:
        return _FOLDED_LETTERS[char]
    if char in _KEPT_LETTERS or not _is_foldable_latin(char):
        return char
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base if base.isascii() and base.isalpha() else char


def visible_text(text: str) -> str:
    """``text`` without zero-width, bidi-control and other invisible format characters.

    They make look-alike names ("news" and "ne\u200bws") and reorder what a reader sees.
    hexo-util's slugize keeps them (the pins in test_urls), so ``slugize`` does too; names
    and listing slugs drop them on purpose.
    """
    return _INVISIBLE.sub("", text)


def slugize(text: str, *, transform: int = 0) -> str:
    """hexo-util's slugize: diacritics folded, CJK kept, whitespace and specials to "-";
    ``transform`` 1 lowercases the result and 2 uppercases it, as hexo-util's option does.

    The one slug rule: categories, tags, ``:post_title`` and (as hexo-renderer-marked
    does) heading ids. Known differences: rare letters of Latin Extended-B/C/D and IPA
    that hexo-util's table folds (ƀ -> b) stay as written here.
    """
    if text.isascii():
        folded = text  # nothing to fold (most names and headings)
    else:
        folded = "".join(_fold_diacritic(c) if not c.isascii() else c for c in text)
    slug = _SPECIAL.sub("-", _CONTROL.sub("", folded)).strip("-")
    if transform == FILENAME_CASE_LOWER:
        return slug.lower()
    return slug.upper() if transform == FILENAME_CASE_UPPER else slug


def _segment_slug(name: str, mapping: dict[str, str] | None, transform: int = 0) -> str:
    """One category/tag segment; the map applies first, as Hexo's category_map/tag_map do,
    and ``transform`` is the site's ``filename_case``, as Hexo's Category and Tag models
    pass it to slugize: these slugs (and so ``:category``), never a post's ``:title``.

    A name made only of specials ("+++") slugizes to nothing, which would give the URL
    "/tags//"; a short digest of the name keeps such a listing addressable and stable.
    """
    mapped = (mapping or {}).get(name, name)
    slug = slugize(visible_text(mapped), transform=transform)
    if not slug:
        return "x" + _name_digest(name)
    if len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
        # Cut on a character boundary; the digest keeps two long names with one prefix apart.
        kept = slug.encode("utf-8")[: MAX_SLUG_BYTES - 9].decode("utf-8", "ignore").rstrip("-")
        return f"{kept}-{_name_digest(name)}"
    return slug


def _name_digest(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


def category_hierarchies(post: Post, settings: Settings) -> tuple[tuple[ListRef, ...], ...]:
    """Each category hierarchy of the post as its chain of nodes, root first (A, A/B, A/B/C)."""
    mapping = dict(settings.category_map)
    chains = []
    for hierarchy in post.categories:
        if not hierarchy:
            continue
        slugs = tuple(_segment_slug(name, mapping, settings.filename_case) for name in hierarchy)
        chains.append(ListRef("category", slugs, tuple(hierarchy)).ancestors())
    return tuple(chains)


def category_refs(post: Post, settings: Settings) -> tuple[ListRef, ...]:
    """Every category node the post is listed on, root first, each once."""
    seen: dict[str, ListRef] = {}
    for chain in category_hierarchies(post, settings):
        for ref in chain:
            seen.setdefault(ref.list_id, ref)
    return tuple(seen.values())


def tag_refs(post: Post, settings: Settings) -> tuple[ListRef, ...]:
    mapping = dict(settings.tag_map)
    seen: dict[str, ListRef] = {}
    for name in post.tags:
        ref = ListRef("tag", (_segment_slug(name, mapping, settings.filename_case),), (name,))
        seen.setdefault(ref.list_id, ref)
    return tuple(seen.values())


def lists_of(post: Post, settings: Settings) -> tuple[ListRef, ...]:
    """Every listing the post appears on: the site, its category nodes, its tags; none
    for a hidden post (hexo-hide-posts: no listing, feed or sitemap shows it)."""
    if post.hidden:
        return ()
    return (SITE, *category_refs(post, settings), *tag_refs(post, settings))


def _permalink_values(post: Post, settings: Settings, wanted: frozenset[str]) -> dict[str, str]:
    """The values of a permalink's tokens: the post's own front-matter values, and the
    built-in ones (which win) that ``wanted`` names, the others left uncomputed."""
    values = {
        key: str(value)
        for key, value in post.extra.items()
        if isinstance(value, str | int) and not isinstance(value, bool)
    }
    if post.lang:
        values["lang"] = post.lang
    if wanted & _DATE_TOKENS:
        local = dates.local_date(post.date, settings.tz)
        values.update(
            year=f"{local.year:04d}",
            month=f"{local.month:02d}",
            day=f"{local.day:02d}",
            i_month=str(local.month),
            i_day=str(local.day),
            hour=f"{local.hour:02d}",
            minute=f"{local.minute:02d}",
            second=f"{local.second:02d}",
        )
    values.update(
        timestamp=str(int(post.date.timestamp())),
        title=post.name,
        name=post.name.rsplit("/", 1)[-1],
    )
    if "post_title" in wanted:
        # hexo's post_permalink filter lowercases :post_title whatever filename_case says
        values["post_title"] = slugize(post.title, transform=FILENAME_CASE_LOWER)
    if "category" in wanted:
        chains = category_hierarchies(post, settings)
        # Hexo's :category is the slug of the post's last category, which includes its parents.
        values["category"] = "/".join(chains[0][-1].slugs) if chains else DEFAULT_CATEGORY
    if "hash" in wanted:
        # Hexo hashes the slug followed by the date as Unix seconds.
        digest_input = values["title"] + values["timestamp"]
        values["hash"] = hashlib.sha1(digest_input.encode("utf-8")).hexdigest()[:12]
    return values


_DATE_TOKENS = frozenset(("year", "month", "day", "i_month", "i_day", "hour", "minute", "second"))


@cache
def _rule_tokens(rule: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(rule))


def expand_permalink(rule: str, post: Post, settings: Settings) -> str:
    """The site permalink rule with the post's values substituted (no leading "/")."""
    values = _permalink_values(post, settings, _rule_tokens(rule))

    def substitute(match: re.Match[str]) -> str:
        token = match.group(1)
        if token not in values:
            raise PermalinkError(
                f"the site permalink {rule!r} uses :{token}, which this post does not set",
                source=post.source_key,
                key=token,
                value=None,
            )
        return values[token]

    return _TOKEN.sub(substitute, rule)


def _as_site_path(path: str) -> str:
    """Hexo's rule, with post_asset_folder's ending: a path that ends in neither "/" nor
    ".html" gets a "/", so it is served as a directory index with an HTML content type
    instead of an extension-less file.
    """
    path = "/" + path.lstrip("/")
    if path.endswith("/index.html"):
        # "/a/index.html" is the object behind "/a/": one page, so one URL to claim.
        path = path.removesuffix("index.html")
    if not (path.endswith("/") or path.endswith(".html") or path.endswith(".htm")):
        path += "/"
    return path


def is_reserved(path: str) -> bool:
    """Whether a site path belongs to the index pages (home, archives, feeds, sitemaps)."""
    if path == HOME_PATH or path.rstrip("/") in _RESERVED_FILES:
        return True
    first = path.lstrip("/").split("/", 1)[0]
    return first in _RESERVED_DIRS


def url_scheme(url: str) -> str | None:
    """The scheme a browser reads in ``url``, lowercased ("javascript"); None when relative.

    The one scheme check: sanitising, front-matter images, permalinks and the site URL.
    """
    match = _SCHEME.match(_URL_NOISE.sub("", url).lstrip(_URL_LEADING_JUNK))
    return match.group(1).lower() if match else None


def permalink_problem(permalink: str) -> str | None:
    """Why a front-matter ``permalink`` cannot be a page of this site; None when it can.

    Checked decoded, as a browser resolves it: "%2e%2e/" is "../".
    """
    decoded = unquote(permalink)
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in decoded):
        return "contains control characters"
    if "\\" in decoded:
        return "contains a backslash"
    if decoded.startswith("//") or url_scheme(decoded) is not None:
        return "must be a path on this site, not an absolute URL"
    if "?" in decoded or "#" in decoded:
        return "must not contain ? or #"
    relative = decoded.lstrip("/")
    segments = relative.split("/")
    if any(segment in (".", "..") for segment in segments):
        return "must not contain . or .. segments"
    if "" in segments[:-1]:
        return "must not contain empty segments (//)"
    if is_reserved(_as_site_path(relative)):
        return f"{relative or '/'} is reserved for the site's own pages"
    return None


def post_url(post: Post, settings: Settings) -> str:
    """The decoded site path of a post page, e.g. "/2022/02/05/000_d87f2d6de0cb2939/"."""
    if post.permalink:
        path = _as_site_path(post.permalink)
        origin = "permalink"
    else:
        path = _as_site_path(expand_permalink(settings.permalink, post, settings))
        origin = "the site permalink"
    if is_reserved(path):
        raise PermalinkError(
            f"{origin} gives {path!r}, which is reserved for index pages "
            "(/, /archives/, /categories/, /tags/, /sitemaps/, feeds, robots, 404)",
            source=post.source_key,
            key="permalink",
            value=post.permalink,
        )
    segments = path.strip("/").split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise PermalinkError(
            f"{origin} gives {path!r}, which has an empty, '.' or '..' segment",
            source=post.source_key,
            key="permalink",
            value=post.permalink,
        )
    return path


def page_url(source_key: str, permalink: str | None) -> str:
    """A page's decoded site path, as Hexo's page processor (processor/asset.ts) gives it.

    ``about/index.md`` -> ``/about/``, ``foo.md`` -> ``/foo.html``; a front-matter
    ``permalink`` ending in "/" gets ``index``, one without an extension ``.html``.
    """
    if permalink:
        path = permalink.lstrip("/")
        path = path + "index" if path.endswith("/") or not path else path
        if "." not in path.rpartition("/")[2].lstrip("."):
            path += ".html"
    else:
        stem, _, _ = source_key.rpartition(".")
        path = stem + ".html"
    url = "/" + path
    return url.removesuffix("index.html") if url.endswith("/index.html") else url


def source_asset_url(source_key: str) -> str:
    """An asset is served at its own path: ``images/a.png`` -> ``/images/a.png``."""
    return "/" + source_key


def post_asset_url(post_url: str, relative: str) -> str:
    """A file of a post's asset folder, below the post's URL (a ``.html`` ending stripped,
    as Hexo's PostAsset.path does): ``/2022/02/05/x/`` + ``a.png``."""
    base = re.sub(r"\.html?$", "", post_url)
    return base.rstrip("/") + "/" + relative


def reserved_problem(url: str) -> str | None:
    """Why a page or asset cannot be served at ``url``; None when it can."""
    if is_reserved(url):
        return (
            f"{url!r} is reserved for index pages blogpub writes "
            "(/, /archives/, /categories/, /tags/, /sitemaps/, feeds, robots, 404)"
        )
    if any(segment in (".", "..") for segment in url.split("/")):
        return f"{url!r} has a '.' or '..' segment"
    return None


def _listing_dir(ref: ListRef) -> str:
    if ref.kind == "site":
        return "/"
    directory = CATEGORIES_DIR if ref.kind == "category" else TAGS_DIR
    return f"/{directory}/{'/'.join(ref.slugs)}/"


def landing_url(ref: ListRef) -> str:
    """ "/" for the site, "/categories/a/b/", "/tags/x/"."""
    return _listing_dir(ref)


def month_url(ref: ListRef, year: int, month: int) -> str:
    """ "/archives/2022/02/", "/categories/a/b/2022/02/", "/tags/x/2022/02/"."""
    base = f"/{ARCHIVES_DIR}/" if ref.kind == "site" else _listing_dir(ref)
    return f"{base}{year:04d}/{month:02d}/"


def year_url(year: int) -> str:
    return f"/{ARCHIVES_DIR}/{year:04d}/"


def archives_url(ref: ListRef = SITE) -> str:
    """ "/archives/" for the site; a listing's archive index of months lives below it,
    "/archives/categories/a/b/", "/archives/tags/x/": beside the 4-digit year pages, so it
    can never be a category's or tag's own page."""
    if ref.kind == "site":
        return f"/{ARCHIVES_DIR}/"
    return f"/{ARCHIVES_DIR}{_listing_dir(ref)}"


def overview_url(kind: OverviewKind) -> str:
    return f"/{CATEGORIES_DIR}/" if kind == "category" else f"/{TAGS_DIR}/"


def feed_url(ref: ListRef, name: str = FEED_NAME) -> str:
    """ "/atom.xml" for the site, "/categories/a/b/atom.xml" for a category; ``name`` is
    another feed's file ("rss2.xml")."""
    return f"{_listing_dir(ref)}{name}"


def sitemap_month_url(year: int, month: int) -> str:
    return f"/{SITEMAPS_DIR}/{dates.month_key(year, month)}.xml"


def sitemap_pages_url() -> str:
    """The sitemap of standalone pages (about/index.md ...), beside the month sitemaps."""
    return f"/{SITEMAPS_DIR}/pages.xml"


def sitemap_index_url() -> str:
    return SITEMAP_INDEX_PATH


def not_found_url() -> str:
    return NOT_FOUND_PATH


def robots_url() -> str:
    return ROBOTS_PATH


def asset_url(stem: str, digest: str, extension: str) -> str:
    """A theme asset named by its bytes ("/assets/style.0123456789ab.css"): a new theme is a
    new URL, so the old one never needs invalidating."""
    return f"/assets/{stem}.{digest[:12]}.{extension}"


def encode_path(path: str) -> str:
    """The path as it goes on the wire and into CloudFront invalidations.

    RFC 3986 unreserved characters and "/" stay; everything else, CJK included, is
    percent-encoded as UTF-8.
    """
    return quote(path, safe="/")


def href(path: str, settings: Settings) -> str:
    """A link to a site path: root-prefixed and percent-encoded."""
    return encode_path(settings.root.rstrip("/") + path)


def url_origin(settings: Settings) -> str:
    """``url`` without the subdirectory ``root`` names: Hexo's docs put a subdirectory in
    both ("url: https://example.com/blog", "root: /blog/"), and it counts once."""
    subdirectory = settings.root.rstrip("/")
    if subdirectory and urlsplit(settings.url).path.rstrip("/").endswith(subdirectory):
        return settings.url.rstrip("/")[: -len(subdirectory)]
    return settings.url


def absolute_url(path: str, settings: Settings) -> str:
    """The absolute URL of a site path (canonical links, og:url, feeds, sitemaps, robots)."""
    return url_origin(settings) + href(path, settings)


_RESOLVING_BASE = "https://site.invalid"


def site_path_url(url: str, page_url: str, settings: Settings) -> str:
    """A path from front matter (a cover) as a root-prefixed site path: "/x.png" is below the
    root (Hexo's url_for); "x.png" and "../x.png" are relative to the page at ``page_url``
    (Hexo's open_graph resolves them against the page's URL), dot segments resolved."""
    if url.startswith("/"):
        return settings.root.rstrip("/") + url
    # A base with a host: RFC 3986 then drops ".." past the top, as a browser does.
    resolved = urljoin(_RESOLVING_BASE + page_url, url).removeprefix(_RESOLVING_BASE)
    return settings.root.rstrip("/") + resolved


# href/src values of sanitised HTML: nh3 writes every attribute double-quoted.
_LINK_ATTRIBUTE = re.compile(r'(\s(?:href|src)=")([^"]*)(")')


def rebase_relative_links(fragment: str, page_url: str, settings: Settings) -> str:
    """An HTML fragment of the page at ``page_url`` made fit to show on another page (an
    excerpt on a listing, a feed summary): relative ``href``/``src`` values, "x.png",
    "../images/x.png" or "#more", become the root-prefixed site paths they name from
    ``page_url``; absolute and root-relative ones stay as they are."""

    def rebase(match: re.Match[str]) -> str:
        value = html.unescape(match.group(2))
        if not value or value.startswith(("/", "\\")) or url_scheme(value) is not None:
            return match.group(0)
        resolved = site_path_url(value, encode_path(page_url), settings)
        return match.group(1) + html.escape(resolved) + match.group(3)

    return _LINK_ATTRIBUTE.sub(rebase, fragment)
