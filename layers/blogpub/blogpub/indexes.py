"""BuildIndexesFunction's logic: a stream batch in, changed index pages and one invalidation out.

Each batch maps its records to the index pages they can affect, renders each page once
from queries bounded by that page (never a scan), writes only pages whose bytes changed
and invalidates the changed URLs that existed before. Which pages exist and how each is
rendered are render.py's rules (``page_exists``, ``Renderer.index_page``), shared with the
in-memory full render. After a write the page is rendered again and compared, so a builder
that raced with another one repairs what it overwrote (DESIGN.md invariant 5).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from blogpub.cdn import Invalidator, caller_reference
from blogpub.errors import TransientError
from blogpub.events import StreamChange
from blogpub.models import SITE, Entry, ListRef, ListSummary, MonthCount, Page
from blogpub.render import IndexPage, Renderer, has_feed, page_exists, site_wide_pages
from blogpub.settings import Settings
from blogpub.site import SiteBucket
from blogpub.table import PostTable, list_ref_from_id, month_of

MAX_ROUNDS = 5
POST_PAGE_WAIT_SECONDS = 5.0


def _membership_pages(ref: ListRef, year: int, month: int) -> list[IndexPage]:
    pages = [IndexPage("landing", ref), IndexPage("month", ref, year, month)]
    if has_feed(ref):
        pages.append(IndexPage("feed", ref))
    if ref == SITE:
        pages += [IndexPage("sitemap_month", year=year, month=month), IndexPage("year", year=year)]
    return pages


def _count(image: Mapping[str, Any] | None) -> int:
    return int((image or {}).get("n", 0))


def _touched(change: StreamChange) -> bool:
    """Rewritten by a rebuild (a new ``rebuilt_by`` marker): every page of the item's scope
    is rendered again, since settings may have changed what they show."""
    old, new = change.old_image or {}, change.new_image or {}
    return bool(new.get("rebuilt_by")) and new.get("rebuilt_by") != old.get("rebuilt_by")


def _opened_or_closed(change: StreamChange) -> bool:
    """A listing or month that gained its first post or lost its last."""
    return (_count(change.old_image) > 0) != (_count(change.new_image) > 0)


def _registry_pages(change: StreamChange) -> list[IndexPage]:
    """A listing's total or names changed: its landing and its overview show them."""
    image = change.new_image or change.old_image or {}
    ref = list_ref_from_id(change.sk, image.get("names") or ())
    pages = [IndexPage("landing", ref)]
    if ref.kind == "category":
        pages.append(IndexPage("category_overview"))
    elif ref.kind == "tag":
        pages.append(IndexPage("tag_overview"))
    if _touched(change):
        pages.append(IndexPage("archives", ref))
        if has_feed(ref):
            pages.append(IndexPage("feed", ref))
    if ref == SITE and (_touched(change) or _opened_or_closed(change)):
        pages += site_wide_pages(())
    return pages


def _month_count_pages(change: StreamChange) -> list[IndexPage]:
    """A month's count changed: the listing's landing shows its newest months' counts and
    the site's year page its months'. Only when the month opens or closes do the pages that
    list every month (archive indexes, the sitemap index) change."""
    image = change.new_image or change.old_image or {}
    ref = list_ref_from_id(change.pk.removeprefix("MONTHS#"), image.get("names") or ())
    year, month = month_of(change.sk)
    pages = [IndexPage("landing", ref)]
    if ref == SITE:
        pages.append(IndexPage("year", year=year))
    if _opened_or_closed(change) or _touched(change):
        pages.append(IndexPage("archives", ref))
        if ref == SITE:
            pages.append(IndexPage("sitemap_index"))
    if _touched(change):
        pages += _membership_pages(ref, year, month)
    return pages


def _feed_pages(change: StreamChange) -> list[IndexPage]:
    """Feeds carry whole bodies, which list memberships do not: when a published post's page
    changes, the feeds it is listed in are rendered again (unchanged bytes are not written)."""
    old, new = change.old_image or {}, change.new_image or {}
    if new.get("status") != "published" or old.get("page_hash") == new.get("page_hash"):
        return []
    list_ids = new.get("lists") or []
    names = new.get("list_names") or [[] for _ in list_ids]
    refs = [list_ref_from_id(list_id, n) for list_id, n in zip(list_ids, names, strict=True)]
    return [IndexPage("feed", ref) for ref in refs if has_feed(ref)]


def affected_pages(changes: Iterable[StreamChange]) -> list[IndexPage]:
    """Every index page a batch of table changes can alter, each once, in a stable order."""
    found: dict[str, IndexPage] = {}
    for change in changes:
        pages: list[IndexPage] = []
        if change.pk.startswith("LIST#"):
            for image in (change.old_image, change.new_image):
                if image:
                    ref = list_ref_from_id(
                        change.pk.removeprefix("LIST#"), image.get("list_names") or ()
                    )
                    pages += _membership_pages(ref, *month_of(change.sk))
        elif change.pk.startswith("LISTS#"):
            pages = _registry_pages(change)
        elif change.pk.startswith("MONTHS#"):
            pages = _month_count_pages(change)
        elif change.pk.startswith("POST#"):
            pages = _feed_pages(change)
        for page in pages:
            found.setdefault(page.url, page)
    return [found[url] for url in sorted(found)]


def post_page_changes(changes: Iterable[StreamChange]) -> dict[str, str | None]:
    """Post URLs whose page changed and that existed before -> the hash now expected there."""
    changed: dict[str, str | None] = {}
    for change in changes:
        if not change.pk.startswith("POST#"):
            continue
        old, new = change.old_image or {}, change.new_image or {}
        if old.get("status") != "published" or not old.get("url"):
            continue
        old_url = old["url"]
        if new.get("status") == "published" and new.get("url") == old_url:
            if new.get("page_hash") != old.get("page_hash"):
                changed[old_url] = new.get("page_hash")
        else:
            changed.setdefault(old_url, None)
    return changed


@dataclass
class TableListings:
    """render.Listings read from the table; answers are kept for one page render only."""

    table: PostTable
    settings: Settings
    with_content: bool = False
    _answers: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def _once(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        if key not in self._answers:
            self._answers[key] = read()
        return self._answers[key]

    def newest(self, ref: ListRef, limit: int) -> Sequence[Entry]:
        entries: list[Entry] = self._once(
            ("newest", ref.list_id, limit), lambda: self.table.newest_entries(ref.list_id, limit)
        )
        if not self.with_content or not entries:
            return entries
        bodies = self.table.bodies([entry.source_key for entry in entries])
        return [replace(entry, content_html=bodies.get(entry.source_key)) for entry in entries]

    def in_month(self, ref: ListRef, year: int, month: int) -> Sequence[Entry]:
        result: list[Entry] = self._once(
            ("month", ref.list_id, year, month),
            lambda: self.table.month_entries(ref.list_id, year, month),
        )
        return result

    def recent_months(self, ref: ListRef, limit: int) -> Sequence[MonthCount]:
        result: list[MonthCount] = self._once(
            ("recent", ref.list_id, limit), lambda: self.table.recent_months(ref.list_id, limit)
        )
        return result

    def months_in_year(self, ref: ListRef, year: int) -> Sequence[MonthCount]:
        result: list[MonthCount] = self._once(
            ("year", ref.list_id, year), lambda: self.table.months_in_year(ref.list_id, year)
        )
        return result

    def all_months(self, ref: ListRef) -> Sequence[MonthCount]:
        result: list[MonthCount] = self._once(
            ("all", ref.list_id), lambda: self.table.list_months(ref.list_id)
        )
        return result

    def summaries(self, kind: Literal["category", "tag"]) -> Sequence[ListSummary]:
        result: list[ListSummary] = self._once(
            ("summaries", kind), lambda: self.table.list_summaries(kind)
        )
        return result


@dataclass
class BuildReport:
    pages_written: list[str] = field(default_factory=list)
    pages_deleted: list[str] = field(default_factory=list)
    invalidation: dict[str, object] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "pages_written": self.pages_written,
            "pages_deleted": self.pages_deleted,
            "invalidation": self.invalidation,
        }


@dataclass
class IndexBuilder:
    table: PostTable
    site: SiteBucket
    settings: Settings
    renderer: Renderer
    invalidator: Invalidator | None = None
    sleep: Callable[[float], None] = time.sleep
    # Called after each render with the page; lets tests force an interleaving of builders.
    on_rendered: Callable[[IndexPage], None] | None = None

    def build(self, changes: Sequence[StreamChange]) -> BuildReport:
        return self.sync_pages(
            affected_pages(changes),
            post_pages=post_page_changes(changes),
            batch_ids=[change.sequence_number for change in changes],
        )

    def sync_pages(
        self,
        pages: Iterable[IndexPage],
        *,
        post_pages: Mapping[str, str | None] | None = None,
        batch_ids: Iterable[str] = (),
    ) -> BuildReport:
        """Bring ``pages`` in line with the table, then invalidate what changed and existed."""
        report = BuildReport()
        stale_urls: set[str] = set()
        for page in pages:
            if self._sync(page, report):
                stale_urls.add(page.url)
        for url, expected_hash in (post_pages or {}).items():
            self._await_post_page(url, expected_hash)
            stale_urls.add(url)
        if self.invalidator is not None and stale_urls:
            reference = caller_reference(batch_ids)
            report.invalidation = self.invalidator.invalidate(stale_urls, reference)
        return report

    def render(self, page: IndexPage) -> Page | None:
        """The page as the table says it should be now, or None when it should not exist."""
        listings = TableListings(
            self.table,
            self.settings,
            with_content=page.kind == "feed" and self.settings.feed_content == "full",
        )
        if not page_exists(page, listings):
            return None
        return self.renderer.index_page(page, listings)

    def _sync(self, page: IndexPage, report: BuildReport) -> bool:
        """Write until the stored bytes equal a fresh render; True if it existed and changed."""
        existed_and_changed = False
        for _ in range(MAX_ROUNDS):
            rendered = self.render(page)
            if self.on_rendered is not None:
                self.on_rendered(page)
            outcome = self.site.sync(page.url, rendered)
            if outcome == "unchanged":
                return existed_and_changed
            if outcome in ("updated", "deleted"):
                existed_and_changed = True
            target = report.pages_deleted if outcome == "deleted" else report.pages_written
            if page.url not in target:
                target.append(page.url)
        raise TransientError(f"{page.url}: still changing after {MAX_ROUNDS} renders")

    def _await_post_page(self, url: str, expected_hash: str | None) -> None:
        """Give RenderPostFunction a moment to write the page before it is invalidated."""
        deadline = time.monotonic() + POST_PAGE_WAIT_SECONDS
        while self.site.stored_hash(url) != expected_hash and time.monotonic() < deadline:
            self.sleep(0.2)
