"""Posts and listings to pages, with Jinja2 and the default theme in ``theme/``.

Which index pages a site has, when each exists and what it reads are the page catalogue's
rules (pages.py); this module draws each kind. The theme's words are in ``theme/labels.json``.

Safety (docs/design.md, invariant 8): autoescape is on for every template whatever its extension;
bodies arrive already sanitised by ``markup.render_body`` and are inserted as ``Markup``; a
post's text is only ever template *data*, never template source.

Post pages depend on their own post only (no previous/next links): publishing one post then
re-renders one post page, never its neighbours (docs/design.md, invariant 2).
"""

from __future__ import annotations

import hashlib
import html
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

import jinja2
from markupsafe import Markup

from blogpub import dates, urls
from blogpub.errors import UrlConflictError
from blogpub.models import (
    SITE,
    Entry,
    ListRef,
    ListSummary,
    MonthCount,
    Page,
    Post,
    RenderedPost,
    SourcePage,
)
from blogpub.pages import (
    LANDING_MONTHS,
    IndexPage,
    has_feed,
    page_exists,
    render_page,
    site_pages,
)
from blogpub.settings import Settings
from blogpub.templates import THEME_DIR, theme_environment

if TYPE_CHECKING:
    from blogpub.markup import BodyOptions
    from blogpub.tags import ResolvedPost

HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

DESCRIPTION_LENGTH = 160
# An empty feed still needs an <updated>; a fixed instant keeps the bytes deterministic.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@cache
def theme_labels() -> Mapping[str, Mapping[str, str]]:
    """The theme's words in each language it speaks, from ``theme/labels.json`` (read once;
    JSON, so that an index page renders without importing YAML)."""
    loaded: Mapping[str, Mapping[str, str]] = json.loads(
        (THEME_DIR / "labels.json").read_text(encoding="utf-8")
    )
    return loaded


def labels_for(language: str) -> Mapping[str, str]:
    """The theme's words in the site language: zh-TW/zh-HK/zh-Hant get traditional Chinese,
    other zh variants simplified, anything else English."""
    labels = theme_labels()
    tag = language.lower().replace("_", "-")
    if tag.startswith("zh"):
        traditional = any(part in tag for part in ("tw", "hk", "mo", "hant"))
        return labels["zh-TW" if traditional else "zh-CN"]
    return labels["en"]


class Listings(Protocol):
    """What index pages read: the table in the pipeline, ``MemoryListings`` in a full render."""

    def newest(self, ref: ListRef, limit: int) -> Sequence[Entry]:
        """The ``limit`` newest entries of a listing, newest first."""
        ...

    def in_month(self, ref: ListRef, year: int, month: int) -> Sequence[Entry]:
        """Every entry of a listing in a month (site timezone), newest first."""
        ...

    def recent_months(self, ref: ListRef, limit: int) -> Sequence[MonthCount]:
        """The ``limit`` newest months of a listing that hold posts, newest first."""
        ...

    def months_in_year(self, ref: ListRef, year: int) -> Sequence[MonthCount]:
        """The months of one year of a listing that hold posts, newest first."""
        ...

    def all_months(self, ref: ListRef) -> Sequence[MonthCount]:
        """Every month of a listing that holds posts, newest first."""
        ...

    def sitemap_pages(self) -> Sequence[str]:
        """The URLs of the site's standalone pages (about/index.md ...)."""
        ...

    def summaries(self, kind: Literal["category", "tag"]) -> Sequence[ListSummary]:
        """Every listing of a kind with its post count."""
        ...


def newest_first(entries: Iterable[Entry], settings: Settings) -> list[Entry]:
    """Newest first by local date, then by source key: the order of the table's sort keys."""
    return sorted(
        entries,
        key=lambda entry: (dates.local_sort_key(entry.date, settings.tz), entry.source_key),
        reverse=True,
    )


@dataclass
class MemoryListings:
    """Listings built in memory from a set of rendered posts."""

    settings: Settings
    entries: dict[str, list[Entry]] = field(default_factory=dict)  # by list id, newest first
    refs: dict[str, ListRef] = field(default_factory=dict)
    page_urls: list[str] = field(default_factory=list)  # standalone pages, for the sitemap
    # Each listing's entries grouped by month once, so a full render is not O(pages x posts).
    _by_month: dict[str, dict[tuple[int, int], list[Entry]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def from_posts(cls, posts: Iterable[RenderedPost], settings: Settings) -> MemoryListings:
        listings = cls(settings)
        grouped: dict[str, list[Entry]] = defaultdict(list)
        for rendered in sorted(posts, key=lambda item: item.post.source_key):
            entry = rendered.entry(with_content=True)
            for ref in urls.lists_of(rendered.post, settings):
                listings.refs.setdefault(ref.list_id, ref)
                grouped[ref.list_id].append(entry)
        listings.refs.setdefault(SITE.list_id, SITE)
        listings.entries = {key: newest_first(value, settings) for key, value in grouped.items()}
        return listings

    def _month_of(self, entry: Entry) -> tuple[int, int]:
        local = dates.local_date(entry.date, self.settings.tz)
        return local.year, local.month

    def newest(self, ref: ListRef, limit: int) -> Sequence[Entry]:
        return self.entries.get(ref.list_id, [])[:limit]

    def _months_of(self, list_id: str) -> dict[tuple[int, int], list[Entry]]:
        grouped = self._by_month.get(list_id)
        if grouped is None:
            grouped = defaultdict(list)
            for entry in self.entries.get(list_id, []):
                grouped[self._month_of(entry)].append(entry)
            self._by_month[list_id] = grouped = dict(grouped)
        return grouped

    def in_month(self, ref: ListRef, year: int, month: int) -> Sequence[Entry]:
        return list(self._months_of(ref.list_id).get((year, month), []))

    def all_months(self, ref: ListRef) -> Sequence[MonthCount]:
        return [
            MonthCount(year, month, len(entries))
            for (year, month), entries in sorted(self._months_of(ref.list_id).items(), reverse=True)
        ]

    def recent_months(self, ref: ListRef, limit: int) -> Sequence[MonthCount]:
        return self.all_months(ref)[:limit]

    def months_in_year(self, ref: ListRef, year: int) -> Sequence[MonthCount]:
        return [m for m in self.all_months(ref) if m.year == year]

    def summaries(self, kind: Literal["category", "tag"]) -> Sequence[ListSummary]:
        return [
            ListSummary(ref, len(self.entries.get(list_id, [])))
            for list_id, ref in sorted(self.refs.items())
            if ref.kind == kind
        ]

    def sitemap_pages(self) -> Sequence[str]:
        return sorted(self.page_urls)

    def months_by_list(self) -> dict[ListRef, list[tuple[int, int]]]:
        return {
            ref: [(m.year, m.month) for m in self.all_months(ref)] for ref in self.refs.values()
        }


@dataclass(frozen=True)
class Link:
    href: str
    text: str
    count: int | None = None
    depth: int = 0


@dataclass(frozen=True)
class EntryView:
    """An entry as a listing template shows it."""

    title: str
    href: str
    datetime: str  # RFC 3339 in the site timezone
    date: str  # YYYY-MM-DD in the site timezone
    excerpt: Markup
    cover: str | None
    author: str | None


def safe_image_url(url: str | None, settings: Settings, page_url: str) -> str | None:
    """A front-matter image URL fit for src=: http(s), protocol-relative or a site path.

    Other schemes (javascript:, data:) are dropped; "/x.png" gets the root, as Hexo's
    url_for does; a relative "x.png" or "../x.png" is resolved against the post's URL
    ``page_url``, as Hexo's open_graph does, so listings show the same image as the post.
    """
    if not url:
        return None
    cleaned = url.strip()
    if cleaned.lower().startswith(("http://", "https://", "//")):
        return cleaned
    if urls.url_scheme(cleaned) is not None:
        return None
    return urls.site_path_url(cleaned, page_url, settings)


def absolute_image_url(url: str | None, settings: Settings) -> str | None:
    """An image URL from ``safe_image_url`` as Open Graph and JSON-LD need it: absolute."""
    if url is None:
        return None
    if url.startswith("//"):
        return "https:" + url
    if url.startswith("/"):
        return urls.url_origin(settings) + url
    return url


def plain_text(html: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """Sanitised HTML as a one-line description, cut at ``limit`` characters."""
    from blogpub.markup import without_line_numbers

    text = Markup(without_line_numbers(html)).striptags()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def json_for_script(data: Any) -> Markup:
    """JSON safe inside <script>: "<", ">" and "&" escaped so "</script>" and "<!--" cannot
    end or change the script element."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def rfc3339(moment: datetime, settings: Settings) -> str:
    return dates.local_date(moment, settings.tz).isoformat()


@cache
def stylesheet() -> Page:
    """The theme CSS as its own content-hashed asset: pages stay ~4 KB smaller, the
    Content-Security-Policy needs no inline style, and a theme change is a new URL."""
    # The highlighter's colours go in the one stylesheet: a page needs no second request.
    body = (THEME_DIR / "style.css").read_bytes() + (THEME_DIR / "highlight.css").read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    return Page(url=urls.asset_url("style", digest, "css"), body=body, content_type=CSS)


def theme_assets() -> list[Page]:
    """Every asset the theme's pages link: the site bucket holds them before any page."""
    return [stylesheet()]


class Renderer:
    """Renders every kind of page of the site for one set of settings."""

    def __init__(self, settings: Settings, environment: jinja2.Environment | None = None) -> None:
        self.settings = settings
        self.environment = environment or theme_environment()
        self.labels = labels_for(settings.language)

    def _href(self, path: str) -> str:
        return urls.href(path, self.settings)

    def _absolute(self, path: str) -> str:
        return urls.absolute_url(path, self.settings)

    def _nav(self) -> list[Link]:
        return [
            Link(self._href(urls.landing_url(SITE)), self.labels["home"]),
            Link(self._href(urls.archives_url()), self.labels["archives"]),
            Link(self._href(urls.overview_url("category")), self.labels["categories"]),
            Link(self._href(urls.overview_url("tag")), self.labels["tags"]),
        ]

    def _render(self, template: str, url: str, content_type: str, **context: Any) -> Page:
        body = self.environment.get_template(template).render(
            site=self.settings,
            t=self.labels,
            **context,
        )
        return Page(url=url, body=body.encode("utf-8"), content_type=content_type)

    def _html(
        self,
        template: str,
        url: str,
        *,
        title: str,
        description: str = "",
        lang: str | None = None,
        noindex: bool = False,
        **context: Any,
    ) -> Page:
        return self._render(
            template,
            url,
            HTML,
            page_title=title,
            description=description or self.settings.description,
            lang=lang or self.settings.language,
            noindex=noindex,
            canonical=self._absolute(url),
            nav=self._nav(),
            home_href=self._href(urls.landing_url(SITE)),
            feed_href=self._href(urls.feed_url(SITE)),
            rss2_href=self._href(urls.feed_url(SITE, self.settings.rss2_path))
            if self.settings.rss2_path
            else None,
            stylesheet_href=self._href(stylesheet().url),
            **context,
        )

    def _entry_view(self, entry: Entry) -> EntryView:
        local = dates.local_date(entry.date, self.settings.tz)
        return EntryView(
            title=entry.title,
            href=self._href(entry.url),
            datetime=local.isoformat(),
            date=local.date().isoformat(),
            excerpt=Markup(entry.excerpt_html),
            cover=safe_image_url(entry.cover, self.settings, entry.url),
            author=entry.author,
        )

    def _month_links(
        self, ref: ListRef, months: Sequence[MonthCount], *, counts: bool = True
    ) -> list[Link]:
        return [
            Link(
                self._href(urls.month_url(ref, m.year, m.month)),
                f"{m.year:04d}-{m.month:02d}",
                m.count if counts else None,
            )
            for m in months
        ]

    def _listing_title(self, ref: ListRef) -> str:
        if ref.kind == "site":
            return self.settings.title
        label = self.labels["category"] if ref.kind == "category" else self.labels["tag"]
        return f"{label}: {' › '.join(ref.names)}"

    def _breadcrumb(self, ref: ListRef) -> list[Link]:
        """The overview, then every level down to this listing, each a link."""
        kind: Literal["category", "tag"] = "category" if ref.kind == "category" else "tag"
        label = self.labels["categories" if kind == "category" else "tags"]
        top = Link(self._href(urls.overview_url(kind)), label)
        return [top, *(Link(self._href(urls.landing_url(n)), n.name) for n in ref.ancestors())]

    def render_post(
        self,
        post: Post,
        resolve_post: Callable[[str], ResolvedPost | None] | None = None,
        assets: frozenset[str] | None = None,
    ) -> RenderedPost:
        """The post's page at ``urls.post_url(post)``, with what listings need of it.

        ``resolve_post`` maps a ``post_link``/``post_path`` target to the published post
        (the publisher passes the table's); without it no target resolves. ``assets`` names
        the files of the post's asset folder (``assets.post_asset_names``); without it an
        ``asset_*`` tag trusts the name it is given."""
        from blogpub.markup import render_post_body  # index pages never load the body pipeline

        url = urls.post_url(post, self.settings)
        options = replace(self._body_options(url), assets=assets)
        if resolve_post is not None:
            options = replace(options, resolve_post=resolve_post)
        body = render_post_body(post.body, post.excerpt, options)
        body_html = body.html
        # shown on listings and in feeds, where a link relative to the post would break
        excerpt_html = urls.rebase_relative_links(body.excerpt_html, url, self.settings)
        if post.description:
            # Hexo themes' excerpt_description: the description stands for the post in
            # listings and feeds, as it does in the meta description.
            excerpt_html = f"<p>{html.escape(post.description, quote=False)}</p>"
        local = dates.local_date(post.date, self.settings.tz)
        updated = dates.local_date(post.updated, self.settings.tz) if post.updated else None
        if updated is not None and updated == local:
            updated = None  # shown only when it differs from the date
        cover = safe_image_url(post.cover, self.settings, url)
        description = post.description or plain_text(excerpt_html or body_html)
        hierarchies = urls.category_hierarchies(post, self.settings)
        tags = [
            Link(self._href(urls.landing_url(ref)), ref.name)
            for ref in urls.tag_refs(post, self.settings)
        ]
        page = self._html(
            "post.html",
            url,
            title=post.title,
            description=description,
            lang=post.lang,
            post=post,
            body=Markup(body_html),
            cover=cover,
            og_image=absolute_image_url(cover, self.settings),
            published=local,
            updated=updated,
            breadcrumbs=[
                [Link(self._href(urls.landing_url(ref)), ref.name) for ref in chain]
                for chain in hierarchies
            ],
            tags=tags,
            json_ld=json_for_script(self._blog_posting(post, url, description, cover, hierarchies)),
            noindex=post.hidden,
            comments=self.settings.comments if post.comments else None,
        )
        return RenderedPost(
            post=post,
            page=page,
            body_html=body_html,
            excerpt_html=excerpt_html,
            warnings=tuple(warning.located(post.body_line - 1) for warning in body.warnings),
            linked_posts=body.linked_posts,
            pending_links=body.pending_links,
        )

    def _body_options(self, url: str) -> BodyOptions:
        """How a body at ``url`` is rendered under this site's settings."""
        from blogpub.markup import BodyOptions

        return BodyOptions(
            site_url=self.settings.url,
            root=self.settings.root,
            post_url=url,
            highlight=self.settings.highlight,
            privacy_embeds=self.settings.privacy_embeds,
            external_links=self.settings.external_link,
        )

    def standalone_page(self, page: SourcePage) -> Page:
        """A standalone page at ``urls.page_url``: the page template, or with ``layout:
        false`` the file's body as written (Hexo's rule for a page without a layout)."""
        url = urls.page_url(page.source_key, page.permalink)
        if not page.layout:
            return Page(url=url, body=page.body.encode("utf-8"), content_type=HTML)
        from blogpub.markup import render_post_body

        # A page's body goes through the same pipeline as a post's (tags, math, highlighting).
        body_html = render_post_body(page.body, None, self._body_options(url)).html
        changed = page.updated or page.date
        return self._html(
            "page.html",
            url,
            title=page.title,
            description=plain_text(body_html),
            lang=page.lang,
            page=page,
            body=Markup(body_html),
            updated=dates.local_date(changed, self.settings.tz) if changed else None,
        )

    def _blog_posting(
        self,
        post: Post,
        url: str,
        description: str,
        cover: str | None,
        hierarchies: Sequence[Sequence[ListRef]],
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "BlogPosting",
            "headline": post.title,
            "url": self._absolute(url),
            "mainEntityOfPage": self._absolute(url),
            "datePublished": rfc3339(post.date, self.settings),
            "dateModified": rfc3339(post.updated or post.date, self.settings),
            "inLanguage": post.lang or self.settings.language,
        }
        if description:
            data["description"] = description
        author = post.author or self.settings.author
        if author:
            data["author"] = {"@type": "Person", "name": author}
        image = absolute_image_url(cover, self.settings)
        if image:
            data["image"] = image
        if hierarchies:
            data["articleSection"] = [" > ".join(chain[-1].names) for chain in hierarchies]
        if post.tags:
            data["keywords"] = list(post.tags)
        return data

    def landing(self, ref: ListRef, entries: Sequence[Entry], months: Sequence[MonthCount]) -> Page:
        """The listing's newest ``per_page`` entries (given newest first), its newest
        ``LANDING_MONTHS`` months with their counts and a link to its archive index."""
        url = urls.landing_url(ref)
        return self._html(
            "landing.html",
            url,
            title=self._listing_title(ref),
            description=self.settings.description if ref.kind == "site" else "",
            ref=ref,
            heading=self._listing_title(ref),
            breadcrumb=self._breadcrumb(ref) if ref.kind == "category" else [],
            entries=[self._entry_view(e) for e in entries[: self.settings.per_page]],
            months=self._month_links(ref, months[:LANDING_MONTHS]),
            all_months=self._href(urls.archives_url(ref)),
            listing_feed=self._href(urls.feed_url(ref)) if has_feed(ref) else None,
        )

    def month_archive(self, ref: ListRef, year: int, month: int, entries: Sequence[Entry]) -> Page:
        """Every entry of the listing in one month (site timezone)."""
        url = urls.month_url(ref, year, month)
        name = f"{year:04d}-{month:02d}"
        listing = self.labels["archives"] if ref.kind == "site" else self._listing_title(ref)
        up = (
            Link(self._href(urls.year_url(year)), f"{year:04d}")
            if ref.kind == "site"
            else Link(self._href(urls.landing_url(ref)), self._listing_title(ref))
        )
        return self._html(
            "month.html",
            url,
            title=f"{listing} · {name}",
            heading=f"{listing} · {name}",
            up=up,
            entries=[self._entry_view(e) for e in entries],
        )

    def year_archive(self, year: int, months: Sequence[MonthCount]) -> Page:
        """The months of one year with their counts ("/archives/2022/")."""
        in_year = [m for m in months if m.year == year]
        return self._html(
            "year.html",
            urls.year_url(year),
            title=f"{self.labels['archives']} · {year:04d}",
            heading=f"{self.labels['archives']} · {year:04d}",
            months=self._month_links(SITE, in_year),
            total=sum(m.count for m in in_year),
        )

    def archives_index(self, ref: ListRef, months: Sequence[MonthCount]) -> Page:
        """Every year and month of a listing ("/archives/", "/archives/categories/a/b/").

        Without counts: the page changes only when a month opens or closes, so a publish into
        a month that has posts never re-renders it. The counts are on the site's year pages
        and on each landing's newest months.
        """
        years: dict[int, list[MonthCount]] = defaultdict(list)
        for m in sorted(months, key=lambda m: (m.year, m.month), reverse=True):
            years[m.year].append(m)
        heading = (
            self.labels["archives"]
            if ref.kind == "site"
            else f"{self._listing_title(ref)} · {self.labels['archives']}"
        )
        return self._html(
            "archives.html",
            urls.archives_url(ref),
            title=heading,
            heading=heading,
            up=None
            if ref.kind == "site"
            else Link(self._href(urls.landing_url(ref)), self._listing_title(ref)),
            years=[
                (
                    Link(
                        self._href(urls.year_url(y)) if ref.kind == "site" else "",
                        f"{y:04d}",
                    ),
                    self._month_links(ref, ms, counts=False),
                )
                for y, ms in years.items()
            ],
        )

    def overview(self, kind: Literal["category", "tag"], lists: Sequence[ListSummary]) -> Page:
        """ "/categories/" as a tree with counts, "/tags/" as a list with counts."""
        ordered = sorted(
            (s for s in lists if s.ref.kind == kind), key=lambda s: (s.ref.slugs, s.ref.names)
        )
        heading = self.labels["categories"] if kind == "category" else self.labels["tags"]
        return self._html(
            "overview.html",
            urls.overview_url(kind),
            title=heading,
            heading=heading,
            kind=kind,
            items=[
                Link(
                    self._href(urls.landing_url(s.ref)),
                    s.ref.name,
                    s.count,
                    depth=len(s.ref.slugs) - 1,
                )
                for s in ordered
            ],
        )

    def _feed_title(self, ref: ListRef) -> str:
        """The site's title, or the listing's before it (both feed formats)."""
        if ref.kind == "site":
            return self.settings.title
        return f"{self._listing_title(ref)} | {self.settings.title}"

    def feed(self, ref: ListRef, entries: Sequence[Entry]) -> Page:
        """Atom feed of the newest ``feed_limit`` entries (given newest first)."""
        shown = list(entries[: self.settings.feed_limit])
        stamps = [e.updated or e.date for e in shown]
        url = urls.feed_url(ref)
        title = self._feed_title(ref)
        return self._render(
            "feed.xml",
            url,
            ATOM,
            title=title,
            self_url=self._absolute(url),
            alternate_url=self._absolute(urls.landing_url(ref)),
            updated=rfc3339(max(stamps) if stamps else EPOCH, self.settings),
            entries=[self._feed_entry(e) for e in shown],
        )

    def rss2(self, ref: ListRef, name: str, entries: Sequence[Entry]) -> Page:
        """RSS 2.0 feed of the Atom feed's entries, at the configured ``name`` beside it
        ("/rss2.xml", "/categories/a/b/rss2.xml"); fields as hexo-generator-feed's."""
        shown = list(entries[: self.settings.feed_limit])
        stamps = [e.updated or e.date for e in shown]
        url = urls.feed_url(ref, name)
        title = self._feed_title(ref)
        return self._render(
            "rss2.xml",
            url,
            RSS,
            title=title,
            description=self.settings.subtitle or self.settings.description or title,
            self_url=self._absolute(url),
            link=self._absolute(urls.landing_url(ref)),
            updated=dates.rss_date(max(stamps) if stamps else EPOCH, self.settings.tz),
            items=[
                {
                    **self._feed_entry(e),
                    "published": dates.rss_date(e.date, self.settings.tz),
                }
                for e in shown
            ],
        )

    def _feed_entry(self, entry: Entry) -> dict[str, Any]:
        full = self.settings.feed_content == "full" and entry.content_html is not None
        return {
            "title": entry.title,
            "url": self._absolute(entry.url),
            "published": rfc3339(entry.date, self.settings),
            "updated": rfc3339(entry.updated or entry.date, self.settings),
            "author": entry.author or self.settings.author,
            "summary": entry.excerpt_html,
            "content": entry.content_html if full else None,
        }

    def sitemap_month(self, year: int, month: int, entries: Sequence[Entry]) -> Page:
        """The post URLs of one month ("/sitemaps/2022-02.xml")."""
        return self._render(
            "sitemap_month.xml",
            urls.sitemap_month_url(year, month),
            XML,
            entries=[
                {
                    "loc": self._absolute(e.url),
                    "lastmod": rfc3339(e.updated or e.date, self.settings),
                }
                for e in entries
            ],
        )

    def sitemap_index(self, months: Sequence[MonthCount], *, with_pages: bool = False) -> Page:
        """ "/sitemap.xml": the home page's sitemap index of month sitemaps (and of the
        standalone pages' sitemap when the site has pages)."""
        ordered = sorted({(m.year, m.month) for m in months})
        sitemaps = [self._absolute(urls.sitemap_month_url(y, m)) for y, m in ordered]
        if with_pages:
            sitemaps.append(self._absolute(urls.sitemap_pages_url()))
        return self._render("sitemap_index.xml", urls.sitemap_index_url(), XML, sitemaps=sitemaps)

    def sitemap_pages(self, page_urls: Sequence[str]) -> Page:
        """ "/sitemaps/pages.xml": the standalone pages (about/index.md ...), without dates."""
        return self._render(
            "sitemap_pages.xml",
            urls.sitemap_pages_url(),
            XML,
            locations=[self._absolute(url) for url in sorted(page_urls)],
        )

    def not_found(self) -> Page:
        return self._html(
            "404.html",
            urls.not_found_url(),
            title=self.labels["not_found"],
        )

    def robots(self) -> Page:
        return self._render(
            "robots.txt",
            urls.robots_url(),
            TEXT,
            sitemap_url=self._absolute(urls.sitemap_index_url()),
        )

    def index_page(self, page: IndexPage, listings: Listings) -> Page:
        """Render one index page from its listings, as its catalogue entry says."""
        return render_page(self, page, listings)

    def site(self, posts: Sequence[RenderedPost]) -> list[Page]:
        """The whole site in memory: every published post's page, every index page and the
        theme's assets, sorted by URL. Two posts at one URL raise ``UrlConflictError``."""
        published = sorted(
            (rendered for rendered in posts if rendered.post.published),
            key=lambda rendered: rendered.post.source_key,
        )
        owners: dict[str, str] = {}
        for rendered in published:
            owner = owners.setdefault(rendered.page.url, rendered.post.source_key)
            if owner != rendered.post.source_key:
                raise UrlConflictError(rendered.page.url, owner, source=rendered.post.source_key)
        listings = MemoryListings.from_posts(published, self.settings)
        pages = [rendered.page for rendered in published]
        pages += [
            self.index_page(page, listings)
            for page in site_pages(listings.months_by_list(), self.settings.rss2_path)
            if page_exists(page, listings)
        ]
        pages += theme_assets()
        return sorted(pages, key=lambda page: page.url)
