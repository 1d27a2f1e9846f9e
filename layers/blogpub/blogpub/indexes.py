"""BuildIndexesFunction's logic: a stream batch in, changed index pages and one invalidation out.

Each batch's records become typed table changes (``table.table_changes``), which the page
catalogue (pages.py) maps to the index pages they can affect. Each page remembers (in its
object's metadata, and the builder in a page state item of the table) the change counter it
was rendered from; a page is rendered again only when its counter moved past that, so a
batch whose records the pages already show reads one request of counters and page states,
and renders and writes nothing. A page is
rendered from queries bounded by that page (never a scan), answers shared by the batch's
pages; only pages whose bytes or counter changed are written. Pages that list posts
expire on their own (a short s-maxage, docs/design.md invariant 3) and are never
invalidated; only long-lived objects that existed before and changed (post pages edited,
deleted or rolled back, robots.txt) are. Which pages exist and how each renders are the
catalogue's rules, shared with the in-memory full render. A write is conditional on the
object being as it was read (S3 If-Match), so a builder never overwrites a newer render:
it reads again and renders again only if its counter is still ahead (docs/design.md,
invariant 5).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal

from blogpub.cdn import Invalidator, caller_reference
from blogpub.errors import TransientError
from blogpub.events import NameChange, PostChange, StreamChange, TableChange, UrlReleased
from blogpub.models import Entry, ListRef, ListSummary, MonthCount, Page, StoredPage
from blogpub.pages import (
    CATALOGUE,
    LANDING_MONTHS,
    IndexPage,
    ListingRead,
    cache_class,
    change_counter,
    has_feed,
    newest_shown,
    page_exists,
    page_reads,
    pages_forced_by,
    pages_reached_by,
)
from blogpub.render import Renderer
from blogpub.settings import Settings
from blogpub.site import PageConflictError, SiteBucket, WriteOutcome
from blogpub.table import NewestEntries, PostTable, table_changes

# Builders racing on one page: each lost conditional write reads the page and its counter
# again, backing off, before the batch is failed and retried.
MAX_ROUNDS = 20
MAX_ROUND_PAUSE_SECONDS = 0.5
POST_PAGE_WAIT_SECONDS = 5.0
# Calls of one batch in flight at once, its first reads and then its page writes
# (botocore's pool keeps 10 connections).
BATCH_THREADS = 8
# The summaries each of the overviews' reads asks for.
SUMMARIES: Mapping[ListingRead, Literal["category", "tag"]] = {
    "category_summaries": "category",
    "tag_summaries": "tag",
}


# A page write in flight: called, its outcome and what is stored afterwards.
_Write = Callable[[], tuple[WriteOutcome, StoredPage | None]]
# Starts a call (a page write, a read) and gives back a function that waits for its result.
_Start = Callable[..., Callable[[], Any]]


def _in_this_thread(call: Callable[..., Any], *args: Any, **kwargs: Any) -> _Write:
    """A write made in this thread when its outcome is asked for (a lone page, or a page
    written again)."""
    return partial(call, *args, **kwargs)


@contextmanager
def _batch_threads(pages: int) -> Iterator[_Start]:
    """Where a batch starts its first reads and page writes: ``BATCH_THREADS`` threads when
    there is more than one page (DynamoDB and S3 answer each request in milliseconds that
    the batch need not wait one by one), else each call made at once (no thread, nor
    concurrent.futures imported, for one page)."""
    if pages < 2:
        yield _in_this_thread
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(pages, BATCH_THREADS)) as pool:

        def submit(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
            return pool.submit(call, *args, **kwargs).result

        yield submit


def _behind(stored: StoredPage | None, counter: int) -> bool:
    """The stored page was rendered from an older change counter (or records none)."""
    return stored is None or stored.rendered_from is None or stored.rendered_from < counter


def affected_pages(changes: Iterable[TableChange], rss2_path: str | None = None) -> list[IndexPage]:
    """Every index page a batch of table changes can alter, each once, in a stable order."""
    found: dict[str, IndexPage] = {}
    for change in changes:
        for page in pages_reached_by(change, rss2_path):
            found.setdefault(page.url, page)
    return [found[url] for url in sorted(found)]


def relinked_names(changes: Iterable[TableChange]) -> list[str]:
    """Post names that now resolve otherwise and that some post links (or linked) to."""
    names = {
        change.name
        for change in changes
        if isinstance(change, NameChange) and change.changed and change.linked
    }
    return sorted(names)


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
    """render.Listings read from the table; answers are kept for one batch (read after its
    change counters, so every page rendered from them shows at least those), each under
    its call: the table's bound method and arguments (``read_ahead`` makes them ahead)."""

    table: PostTable
    settings: Settings
    with_content: bool = False
    _answers: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    _bodies: dict[str, str | None] = field(default_factory=dict)
    # Each listing's newest entries, by list id, with the depth they were read to.
    _newest: dict[str, tuple[int, NewestEntries]] = field(default_factory=dict)

    def _once(self, read: Callable[..., Any], *args: Any) -> Any:
        call = (read, *args)
        if call not in self._answers:
            self._answers[call] = read(*args)
        return self._answers[call]

    def _answered(self, read: Callable[..., Any], *args: Any) -> Any:
        """The batch's answer to ``read(*args)`` if it was made, else None (no request)."""
        return self._answers.get((read, *args))

    def newest(self, ref: ListRef, limit: int, *, at_least: int = 0) -> Sequence[Entry]:
        # One query per listing serves its landing (per_page), its feed (feed_limit) and,
        # read ``at_least`` deep, its newest month archives (in_month slices it).
        most = self._read_depth(ref, limit, at_least)
        asked, newest = self._newest.get(ref.list_id, (0, None))
        if newest is None or asked < most:
            newest = self.table.newest(ref.list_id, most)
            self._newest[ref.list_id] = (most, newest)
        entries = newest.entries[:limit]
        if not self.with_content or not entries:
            return entries
        self.load_bodies([entry.source_key for entry in entries])
        return [replace(e, content_html=self._bodies.get(e.source_key)) for e in entries]

    def load_bodies(self, source_keys: Sequence[str]) -> None:
        """Read the stored bodies not read yet in this batch (one request per 100)."""
        missing = [key for key in dict.fromkeys(source_keys) if key not in self._bodies]
        if missing:
            found = self.table.bodies(missing)
            self._bodies.update({key: found.get(key) for key in missing})

    def for_page(self, page: IndexPage) -> TableListings:
        """The listings ``page`` renders from: this batch's answers, with the stored bodies
        when its kind shows them (full-content feeds)."""
        with_content = CATALOGUE[page.kind].reads_bodies and self.settings.feed_content == "full"
        return replace(self, with_content=with_content)

    def preload_bodies(self, pages: Iterable[IndexPage]) -> None:
        """Every feed's entry bodies of the batch in one read."""
        wanted = [page for page in pages if self.for_page(page).with_content]
        shown = [self.newest(page.ref, newest_shown(page, self.settings)) for page in wanted]
        self.load_bodies([entry.source_key for entries in shown for entry in entries])

    def read_ahead(self, pages: Sequence[IndexPage], start: _Start) -> None:
        """Read together what the renders of ``pages`` read first, each answer kept under the
        key its render asks for, so that the renders find it read. First the reads that need
        no other answer: every month of the listings whose pages list them all, the newest
        months of the others, the overviews' summaries, the standalone pages. Then each
        listing's newest entries, as deep as its landing, its feeds and the month archives
        they can serve need (which the months tell). The requests are those the renders made
        one after the other before, and a read that depends on the pages' answers (a month's
        entries, a year's months) is still made by the render that needs it, if these
        answers do not hold it."""
        reads = {page: page_reads(page) for page in pages}
        months_of = self._months_served_by_newest(reads)
        table = self.table
        every_month = [
            (table.list_months, page.ref.list_id)
            for page, read in reads.items()
            if "all_months" in read
        ]
        first: list[tuple[Any, ...]] = [*every_month]  # in the pages' order: reruns alike
        for page, read in reads.items():
            list_id = page.ref.list_id
            first += [
                (table.list_summaries, SUMMARIES[summaries])
                for summaries in sorted(read & SUMMARIES.keys())
            ]
            if "sitemap_pages" in read:
                first.append((table.sitemap_pages,))
            reads_months = "recent_months" in read or page.ref in months_of
            if reads_months and (table.list_months, list_id) not in every_month:
                first.append((table.recent_months, list_id, LANDING_MONTHS + 1))
        started = {call: start(*call) for call in dict.fromkeys(first) if call not in self._answers}
        for call, answer in started.items():
            self._answers[call] = answer()
        depths: dict[ListRef, int] = {}
        for page, read in reads.items():
            if "newest" in read and page_exists(page, self):
                shown = newest_shown(page, self.settings)
                depths[page.ref] = max(depths.get(page.ref, 0), self._read_depth(page.ref, shown))
        for ref, months in months_of.items():
            if (at_least := self._depth_holding(ref, months)) is not None:
                depths[ref] = max(depths.get(ref, 0), self._read_depth(ref, 0, at_least))
        newest = {}
        for ref, most in depths.items():
            if self._newest.get(ref.list_id, (0, None))[0] < most:
                newest[ref.list_id] = (most, start(self.table.newest, ref.list_id, most))
        for list_id, (most, answer) in newest.items():
            self._newest[list_id] = (most, answer())

    def _months_served_by_newest(
        self, reads: Mapping[IndexPage, frozenset[ListingRead]]
    ) -> dict[ListRef, list[tuple[int, int]]]:
        """The months of month pages whose listing's newest entries the batch reads anyway."""
        reading_newest = {page.ref for page, read in reads.items() if "newest" in read}
        months_of: dict[ListRef, list[tuple[int, int]]] = {}
        for page, read in reads.items():
            if "in_month" in read and page.ref in reading_newest:
                months_of.setdefault(page.ref, []).append((page.year, page.month))
        return months_of

    def _feed_limit(self, ref: ListRef) -> int:
        return self.settings.feed_limit if has_feed(ref) else 0

    def _read_depth(self, ref: ListRef, limit: int, at_least: int = 0) -> int:
        """How many newest entries one query of the listing reads to give ``limit`` (and
        ``at_least``): never fewer than its landing and its feed show, which it then serves."""
        return max(limit, self.settings.per_page, self._feed_limit(ref), at_least)

    def _depth_holding(self, ref: ListRef, months: Iterable[tuple[int, int]]) -> int | None:
        """How deep to read the listing's newest entries to hold ``months`` whole (and one
        older entry to show it), when the months newer than the oldest of them hold fewer
        entries than the landing and feed read anyway: the months' archives then cost no
        query, and no more is read than the month queries would. None: the month queries
        tell (the months are older than the landing shows)."""
        oldest = min(months, default=None)
        if oldest is None:
            return None
        shown = self._read_depth(ref, 0)  # what the landing and feed read anyway
        recent = self.recent_months(ref, LANDING_MONTHS)  # the landing's own read
        if not recent or (recent[-1].year, recent[-1].month) > oldest:
            return None
        newer = sum(count.count for count in recent if (count.year, count.month) > oldest)
        if newer >= shown:
            return None
        within = newer + sum(count.count for count in recent if (count.year, count.month) == oldest)
        return within + 1

    def in_month(self, ref: ListRef, year: int, month: int) -> Sequence[Entry]:
        _, newest = self._newest.get(ref.list_id, (0, None))
        sliced = None if newest is None else newest.in_month(year, month)
        if sliced is not None:  # the landing's query went past the month: no query of its own
            return sliced
        result: list[Entry] = self._once(self.table.month_entries, ref.list_id, year, month)
        return result

    def recent_months(self, ref: ListRef, limit: int) -> Sequence[MonthCount]:
        every: list[MonthCount] | None = self._answered(self.table.list_months, ref.list_id)
        if every is not None:  # already read whole for an archive index of the batch
            return every[:limit]
        # One month deeper than asked: then the answer also holds the newest year whole.
        deeper: list[MonthCount] = self._once(self.table.recent_months, ref.list_id, limit + 1)
        return deeper[:limit]

    def months_in_year(self, ref: ListRef, year: int) -> Sequence[MonthCount]:
        every: list[MonthCount] | None = self._answered(self.table.list_months, ref.list_id)
        if every is not None:
            return [count for count in every if count.year == year]
        read = LANDING_MONTHS + 1
        recent: list[MonthCount] | None = self._answered(
            self.table.recent_months, ref.list_id, read
        )
        if recent is not None and (
            len(recent) < read or (recent[-1].year, recent[-1].month) < (year, 1)
        ):  # the landing's months hold the whole year (or every month there is)
            return [count for count in recent if count.year == year]
        result: list[MonthCount] = self._once(self.table.months_in_year, ref.list_id, year)
        return result

    def all_months(self, ref: ListRef) -> Sequence[MonthCount]:
        result: list[MonthCount] = self._once(self.table.list_months, ref.list_id)
        return result

    def summaries(self, kind: Literal["category", "tag"]) -> Sequence[ListSummary]:
        result: list[ListSummary] = self._once(self.table.list_summaries, kind)
        return result

    def sitemap_pages(self) -> Sequence[str]:
        result: list[str] = self._once(self.table.sitemap_pages)
        return result


class PageStillChangingError(TransientError):
    """Concurrent publishes kept changing a page's inputs while it was being written."""


@dataclass
class BuildReport:
    pages_written: list[str] = field(default_factory=list)
    pages_deleted: list[str] = field(default_factory=list)
    invalidation: dict[str, object] | None = None
    posts_rerendered: list[str] = field(default_factory=list)  # linkers, URL waiters re-rendered
    # Renders made, a page rendered again after a lost write counted again: 0 for a batch
    # whose pages already showed its records, however many pages it reached.
    pages_rendered: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pages_written": self.pages_written,
            "pages_deleted": self.pages_deleted,
            "invalidation": self.invalidation,
            "posts_rerendered": self.posts_rerendered,
            "pages_rendered": self.pages_rendered,
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
    # Queues re-renders of posts (source keys, a rebuild id): Rebuilder.rerender_posts.
    rerender_posts: Callable[[Sequence[str], str], int] | None = None

    def build(
        self, changes: Sequence[StreamChange], typed: Sequence[TableChange] | None = None
    ) -> BuildReport:
        """The pages ``changes`` reach brought in line; ``typed`` is their ``table_changes``
        when the caller mapped them already (service.read_stream_records)."""
        if typed is None:
            typed = [meaning for change in changes for meaning in table_changes(change)]
        batch_ids = [change.sequence_number for change in changes]
        relinked = self.rerender_linkers(relinked_names(typed), batch_ids)
        released = sorted({change.url for change in typed if isinstance(change, UrlReleased)})
        relinked += self.rerender_waiters(released, batch_ids)
        forced = {page.url for change in typed for page in pages_forced_by(change)}
        report = self.sync_pages(
            affected_pages(typed, self.settings.rss2_path),
            post_pages=post_page_changes(typed),
            batch_ids=batch_ids,
            force=lambda page: page.url in forced,
        )
        report.posts_rerendered = relinked
        return report

    def rerender_linkers(self, names: Sequence[str], batch_ids: Sequence[str]) -> list[str]:
        """Queue re-renders of the posts that link to ``names`` (one query per name); a
        repeated batch queues them again, and a re-render that changes nothing writes
        nothing."""
        return self._queue_rerenders(names, self.table.linkers_of, "links", batch_ids)

    def rerender_waiters(self, urls: Sequence[str], batch_ids: Sequence[str]) -> list[str]:
        """Queue re-renders of the keys rejected as url-conflict at ``urls``, now given up
        (one query per URL): each wins the URL or is rejected and waits again."""
        return self._queue_rerenders(urls, self.table.waiters_for, "waiting", batch_ids)

    def _queue_rerenders(
        self,
        values: Sequence[str],
        keys_for: Callable[[str], Iterable[str]],
        reason: str,
        batch_ids: Sequence[str],
    ) -> list[str]:
        if not values or self.rerender_posts is None:
            return []
        found = sorted({key for value in values for key in keys_for(value)})
        if found:
            self.rerender_posts(found, f"{reason}-{caller_reference(batch_ids)}")
        return found

    def sync_pages(
        self,
        pages: Iterable[IndexPage],
        *,
        post_pages: Mapping[str, str | None] | None = None,
        batch_ids: Iterable[str] = (),
        force: Callable[[IndexPage], bool] = lambda page: True,
    ) -> BuildReport:
        """Bring ``pages`` in line with the table, then invalidate the long-lived objects that
        changed and existed (listing pages expire instead).

        A page is rendered when ``force`` says so (by default: every page asked for) or when
        its change counter moved past the one it was rendered from.
        """
        report = BuildReport()
        pages = list(pages)
        counters, recorded = self.table.page_inputs(
            (change_counter(page) for page in pages), [page.url for page in pages]
        )
        listings = TableListings(self.table, self.settings)
        stale: list[tuple[IndexPage, StoredPage | None, int]] = []
        for page in pages:
            counter = counters[change_counter(page)]
            stored = recorded[page.url]  # None: no state, taken to be absent
            if force(page) or _behind(stored, counter):
                stale.append((page, stored, counter))
        stale_urls: set[str] = set()
        unsettled: list[str] = []
        learned: dict[str, StoredPage | None] = {}
        with _batch_threads(len(stale)) as start:
            listings.read_ahead([page for page, _, _ in stale], start)
            listings.preload_bodies(page for page, _, _ in stale)
            # Each page is rendered here in turn and its write sent to a batch thread, so
            # the writes wait on S3 together while the next pages render; their outcomes
            # are then taken in page order (a lost write renders that page again).
            first_writes = [
                self._write(page, stored, counter, listings, start, report=report)
                for page, stored, counter in stale
            ]
            for (page, stored, counter), first_write in zip(stale, first_writes, strict=True):
                try:
                    if self._sync(
                        page,
                        stored,
                        counter,
                        listings,
                        report,
                        forced=force(page),
                        learned=learned,
                        first_write=first_write,
                    ) and (cache_class(page) == "long"):
                        stale_urls.add(page.url)
                except PageStillChangingError:
                    # The other pages of the batch are still brought in line; the batch is
                    # retried.
                    unsettled.append(page.url)
        changed_states = {url: state for url, state in learned.items() if state != recorded[url]}
        if changed_states:
            self.table.put_page_states(changed_states)
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

    def render(self, page: IndexPage, listings: TableListings | None = None) -> Page | None:
        """The page as the table says it should be now, or None when it should not exist."""
        shared = listings or TableListings(self.table, self.settings)
        page_listings = shared.for_page(page)
        if not page_exists(page, page_listings):
            return None
        return self.renderer.index_page(page, page_listings)

    def _sync(
        self,
        page: IndexPage,
        stored: StoredPage | None,
        counter: int,
        listings: TableListings,
        report: BuildReport,
        *,
        forced: bool,
        learned: dict[str, StoredPage | None],
        first_write: _Write,
    ) -> bool:
        """Write the page rendered from at least ``counter`` over ``stored``; True if it
        existed and changed; what is stored at its URL afterwards goes into ``learned``. A lost
        conditional write means another builder wrote (or ``stored``, the table's record, was
        behind the object): read the page (a HEAD) and the counter again, and render again
        only if still behind (or forced, since a forced page's counter does not say what it
        shows). A page that should not exist and has no state is read first: only a HEAD can
        tell whether there is one to delete (a page written before the states, or by a
        builder that records none)."""
        for attempt in range(MAX_ROUNDS):
            if attempt >= 2:
                self.sleep(min(0.05 * 2 ** (attempt - 2), MAX_ROUND_PAUSE_SECONDS))
            write = (
                first_write
                if attempt == 0
                else self._write(page, stored, counter, listings, _in_this_thread, report=report)
            )
            try:
                outcome, learned[page.url] = write()
            except PageConflictError:
                counter_of = change_counter(page)
                counter = self.table.change_counters([counter_of])[counter_of]
                stored = learned[page.url] = self.site.stored_page(page.url)
                if not forced and not _behind(stored, counter):
                    return False
                listings = TableListings(self.table, self.settings)  # answers newer than counter
                continue
            if outcome == "unchanged":
                return False
            target = report.pages_deleted if outcome == "deleted" else report.pages_written
            if page.url not in target:
                target.append(page.url)
            return outcome in ("updated", "deleted")
        raise PageStillChangingError(f"{page.url}: still changing after {MAX_ROUNDS} renders")

    def _write(
        self,
        page: IndexPage,
        stored: StoredPage | None,
        counter: int,
        listings: TableListings,
        start: _Start,
        *,
        report: BuildReport,
    ) -> _Write:
        """Render ``page`` (counted in ``report``) and ``start`` its conditional write over
        ``stored``; the write's outcome (or its PageConflictError) when called."""
        rendered = self.render(page, listings)
        report.pages_rendered += 1
        if self.on_rendered is not None:
            self.on_rendered(page)
        if rendered is None and stored is None:
            stored = self.site.stored_page(page.url)
        return start(
            self.site.write_if_unchanged,
            page.url,
            rendered,
            cache_class(page),
            stored=stored,
            rendered_from=counter,
        )

    def _await_post_page(self, url: str, expected_hash: str | None) -> None:
        """Give RenderPostFunction a moment to write the page before it is invalidated."""
        deadline = time.monotonic() + POST_PAGE_WAIT_SECONDS
        while self.site.stored_hash(url) != expected_hash and time.monotonic() < deadline:
            self.sleep(0.2)
