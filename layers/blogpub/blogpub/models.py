"""The domain shapes that flow between stages: post -> pages -> storage.

Plain frozen dataclasses: no I/O, no validation beyond construction. The reader builds a
``Post``; the renderer turns posts and listings into ``Page`` objects; the table stores
``Entry`` rows and gives them back to the renderer for index pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ListKind = Literal["site", "category", "tag"]


@dataclass(frozen=True)
class Post:
    """One Hexo source file, read and validated; the body is still Markdown/HTML source."""

    source_key: str  # object key, e.g. "_posts/新媒体/a b.md"
    name: str  # key below the posts prefix without extension: Hexo's :title
    title: str
    date: datetime  # timezone-aware
    updated: datetime | None  # timezone-aware, or None when the post has none
    categories: tuple[tuple[str, ...], ...]  # hierarchies of display names, root first
    tags: tuple[str, ...]
    permalink: str | None  # front-matter override, already checked to stay on the site
    published: bool
    comments: bool
    lang: str | None
    excerpt: str | None  # front-matter `excerpt`, overrides <!-- more -->
    body: str  # Markdown with raw HTML, front-matter removed
    extra: Mapping[str, Any] = field(default_factory=dict)  # every other key, JSON-safe
    body_line: int = 1  # the file's line where the body starts (for warnings' line numbers)

    @property
    def cover(self) -> str | None:
        """The post's image, as the default theme picks it (headimg, thumbnail, cover)."""
        for key in ("headimg", "thumbnail", "cover", "cover_image"):
            value = self.extra.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    @property
    def author(self) -> str | None:
        value = self.extra.get("author")
        return value if isinstance(value, str) and value else None

    @property
    def description(self) -> str | None:
        """Front-matter ``description``: the meta description, og:description, feed summary."""
        value = self.extra.get("description")
        return value.strip() if isinstance(value, str) and value.strip() else None

    @property
    def hidden(self) -> bool:
        """``hidden: true`` (hexo-hide-posts): a page with noindex, in no listing or feed."""
        return self.extra.get("hidden") is True


@dataclass(frozen=True)
class SourcePage:
    """A standalone page of the source folder (``about/index.md``): not a post, not listed."""

    source_key: str  # "about/index.md"
    title: str
    date: datetime | None  # timezone-aware; pages need none (Hexo falls back to the file's)
    updated: datetime | None
    permalink: str | None  # front-matter override, checked to stay on the site
    layout: bool  # `layout: false`: the body is the whole file, served as written
    comments: bool
    lang: str | None
    body: str  # Markdown with raw HTML (or HTML), front-matter removed
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ListRef:
    """A listing: the whole site, one category node (at any level) or one tag."""

    kind: ListKind
    slugs: tuple[str, ...] = ()  # slugized path segments ("xin-mei-ti" ... CJK kept)
    names: tuple[str, ...] = ()  # display names, same length as slugs

    @property
    def list_id(self) -> str:
        """Stable identifier, used as a table key: "site", "category:a/b", "tag:x"."""
        if self.kind == "site":
            return "site"
        return f"{self.kind}:{'/'.join(self.slugs)}"

    @property
    def name(self) -> str:
        return self.names[-1] if self.names else ""

    def ancestors(self) -> tuple[ListRef, ...]:
        """This category and every category above it, root first (itself for others)."""
        if self.kind != "category":
            return (self,)
        return tuple(
            ListRef("category", self.slugs[:depth], self.names[:depth])
            for depth in range(1, len(self.slugs) + 1)
        )


SITE = ListRef("site")


@dataclass(frozen=True)
class Entry:
    """What an index page shows of one post; stored once per listing the post is in."""

    source_key: str
    title: str
    url: str  # site path, decoded, e.g. "/2022/02/05/x/"
    date: datetime  # timezone-aware
    updated: datetime | None = None
    excerpt_html: str = ""  # sanitised
    cover: str | None = None
    author: str | None = None
    content_html: str | None = None  # sanitised full body; only filled for feeds


@dataclass(frozen=True)
class MonthCount:
    year: int
    month: int
    count: int


@dataclass(frozen=True)
class ListSummary:
    """A listing with its size, for the /categories/ and /tags/ overviews."""

    ref: ListRef
    count: int


ContentType = str


def object_key_for(url: str) -> str:
    """Where a page lives in the site bucket: directory URLs get index.html."""
    path = url.lstrip("/")
    return f"{path}index.html" if path == "" or path.endswith("/") else path


@dataclass(frozen=True)
class Page:
    """One file of the site. ``url`` is the decoded path readers request."""

    url: str  # "/2022/02/05/x/", "/atom.xml", "/categories/a/"
    body: bytes
    content_type: ContentType

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def object_key(self) -> str:
        return object_key_for(self.url)


@dataclass(frozen=True)
class RenderedPost:
    """A post rendered: its page plus what listings and feeds need of it."""

    post: Post
    page: Page
    body_html: str  # sanitised full body
    excerpt_html: str  # sanitised; the part before <!-- more -->, or a summary
    # Tags and formulas shown as text ("line N: ..."), and post_link/post_path targets:
    # all named, and those not published yet.
    warnings: tuple[str, ...] = ()
    linked_posts: tuple[str, ...] = ()
    pending_links: tuple[str, ...] = ()

    def entry(self, *, with_content: bool = False) -> Entry:
        return Entry(
            source_key=self.post.source_key,
            title=self.post.title,
            url=self.page.url,
            date=self.post.date,
            updated=self.post.updated,
            excerpt_html=self.excerpt_html,
            cover=self.post.cover,
            author=self.post.author,
            content_html=self.body_html if with_content else None,
        )


@dataclass(frozen=True)
class StoredPage:
    """A stored page as a conditional write needs it: its ETag, content hash and the change
    counter it was rendered from (None when not recorded). A HEAD of the object says it; the
    index builder also keeps it in the table (``PostTable.page_states``) to skip the HEAD."""

    etag: str
    content_hash: str
    rendered_from: int | None
