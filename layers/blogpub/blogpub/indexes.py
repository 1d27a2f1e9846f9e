"""BuildIndexesFunction's logic: a stream batch in, changed index pages and one invalidation out.

Each batch's records become typed table changes (``table.table_changes``), which the page
catalogue (pages.py) maps to the index pages they can affect. Each page is rendered once
from queries bounded by that page (never a scan); only pages whose bytes changed are
written. Pages that list posts expire on their own (a short s-maxage, docs/design.md
invariant 3) and are never invalidated; only long-lived objects that existed before and
changed (post pages edited, deleted or rolled back, robots.txt) are. Which pages exist and
how each renders are the catalogue's rules, shared with the in-memory full render. After a
write the page is rendered again and compared, so a builder that raced with another one
repairs what it overwrote (docs/design.md, invariant 5).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from blogpub.cdn import Invalidator, caller_reference
from blogpub.errors import TransientError
from blogpub.events import PostChange, StreamChange, TableChange
from blogpub.models import Entry, ListRef, ListSummary, MonthCount, Page
from blogpub.pages import CATALOGUE, IndexPage, cache_class, page_exists, pages_reached_by
from blogpub.render import Renderer
from blogpub.settings import Settings
from blogpub.site import SiteBucket
from blogpub.table import PostTable, table_changes

# A burst of publishes can keep a page's inputs changing for seconds: re-render for a while,
# backing off, before the batch is failed and retried.
MAX_ROUNDS = 20
MAX_ROUND_PAUSE_SECONDS = 0.5
POST_PAGE_WAIT_SECONDS = 5.0


def affected_pages(changes: Iterable[TableChange]) -> list[IndexPage]:
    """Every index page a batch of table changes can alter, each once, in a stable order."""
    found: dict[str, IndexPage] = {}
    for change in changes:
        for page in pages_reached_by(change):
            found.setdefault(page.url, page)
    return [found[url] for url in sorted(found)]


def post_page_changes(changes: Iterable[TableChange]) -> dict[str, str | None]:
    """Post URLs whose page changed and that existed before -> the hash now expected there."""
    changed: dict[str, str | None] = {}
    for change in changes:
        if not isinstance(change, PostChange) or not change.was_published or not change.old_url:
            continue
        if change.is_published and change.new_url == change.old_url:
            if change.new_page_hash != change.old_page_hash:
                changed[change.old_url] = change.new_page_hash
        else:
            changed.setdefault(change.old_url, None)
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

    def sitemap_pages(self) -> Sequence[str]:
        result: list[str] = self._once(("sitemap_pages",), self.table.sitemap_pages)
        return result


class PageStillChangingError(TransientError):
    """Concurrent publishes kept changing a page's inputs while it was being written."""


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
        typed = [typed for change in changes for typed in table_changes(change)]
        return self.sync_pages(
            affected_pages(typed),
            post_pages=post_page_changes(typed),
            batch_ids=[change.sequence_number for change in changes],
        )

    def sync_pages(
        self,
        pages: Iterable[IndexPage],
        *,
        post_pages: Mapping[str, str | None] | None = None,
        batch_ids: Iterable[str] = (),
    ) -> BuildReport:
        """Bring ``pages`` in line with the table, then invalidate the long-lived objects that
        changed and existed (listing pages expire instead)."""
        report = BuildReport()
        stale_urls: set[str] = set()
        unsettled: list[str] = []
        for page in pages:
            try:
                if self._sync(page, report) and cache_class(page) == "long":
                    stale_urls.add(page.url)
            except PageStillChangingError:
                # The other pages of the batch are still brought in line; the batch is retried.
                unsettled.append(page.url)
        if unsettled:
            raise PageStillChangingError(
                f"{', '.join(unsettled)}: still changing after {MAX_ROUNDS} renders"
            )
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
            with_content=CATALOGUE[page.kind].reads_bodies and self.settings.feed_content == "full",
        )
        if not page_exists(page, listings):
            return None
        return self.renderer.index_page(page, listings)

    def _sync(self, page: IndexPage, report: BuildReport) -> bool:
        """Write until the stored bytes equal a fresh render; True if it existed and changed."""
        existed_and_changed = False
        for attempt in range(MAX_ROUNDS):
            if attempt >= 2:
                self.sleep(min(0.05 * 2 ** (attempt - 2), MAX_ROUND_PAUSE_SECONDS))
            rendered = self.render(page)
            if self.on_rendered is not None:
                self.on_rendered(page)
            outcome = self.site.sync(page.url, rendered, cache_class(page))
            if outcome == "unchanged":
                return existed_and_changed
            if outcome in ("updated", "deleted"):
                existed_and_changed = True
            target = report.pages_deleted if outcome == "deleted" else report.pages_written
            if page.url not in target:
                target.append(page.url)
        raise PageStillChangingError(f"{page.url}: still changing after {MAX_ROUNDS} renders")

    def _await_post_page(self, url: str, expected_hash: str | None) -> None:
        """Give RenderPostFunction a moment to write the page before it is invalidated."""
        deadline = time.monotonic() + POST_PAGE_WAIT_SECONDS
        while self.site.stored_hash(url) != expected_hash and time.monotonic() < deadline:
            self.sleep(0.2)
