"""BuildIndexesFunction's logic: a stream batch in, changed index pages and one invalidation out.

Each batch maps its records to the index pages they can affect, renders each page once
from queries bounded by that page (never a scan), writes only pages whose bytes changed
and invalidates the changed URLs that existed before. After a write the page is rendered
again and compared, so a builder that raced with another one repairs what it overwrote
(DESIGN.md invariant 5).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from blogpub import keys, urls
from blogpub.cdn import Invalidator, caller_reference
from blogpub.errors import TransientError
from blogpub.events import StreamChange
from blogpub.models import SITE, Entry, ListRef, Page
from blogpub.render import Renderer
from blogpub.settings import Settings
from blogpub.site import SiteBucket
from blogpub.table import PostTable, list_ref_from_id, month_of

PageKind = Literal[
    "landing",
    "month",
    "feed",
    "year",
    "archives",
    "overview",
    "sitemap_index",
    "sitemap_month",
    "not_found",
    "robots",
]
MAX_ROUNDS = 5
POST_PAGE_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class PageSpec:
    """An index page to render: its kind, its listing and, for archives, its month."""

    kind: PageKind
    list_id: str = "site"
    year: int = 0
    month: int = 0
    names: tuple[str, ...] = field(default=(), compare=False)

    @property
    def ref(self) -> ListRef:
        return list_ref_from_id(self.list_id, self.names)

    @property
    def url(self) -> str:
        if self.kind == "landing":
            return urls.landing_url(self.ref)
        if self.kind == "month":
            return urls.month_url(self.ref, self.year, self.month)
        if self.kind == "feed":
            return urls.feed_url(self.ref)
        if self.kind == "year":
            return urls.year_url(self.year)
        if self.kind == "overview":
            return urls.overview_url("category" if self.list_id == "category" else "tag")
        if self.kind == "sitemap_month":
            return urls.sitemap_month_url(self.year, self.month)
        return {
            "archives": urls.archives_url(),
            "sitemap_index": "/sitemap.xml",
            "not_found": "/404.html",
            "robots": "/robots.txt",
        }[self.kind]


def _list_pages(list_id: str, names: Sequence[str], year: int, month: int) -> list[PageSpec]:
    specs = [
        PageSpec("landing", list_id, names=tuple(names)),
        PageSpec("month", list_id, year, month, names=tuple(names)),
    ]
    if not list_id.startswith("tag:"):
        specs.append(PageSpec("feed", list_id, names=tuple(names)))
    if list_id == "site":
        specs += [PageSpec("sitemap_month", year=year, month=month), PageSpec("year", year=year)]
    return specs


def _month_counts(image: Mapping[str, Any] | None) -> dict[str, int]:
    if not image:
        return {}
    return {
        name: int(value)
        for name, value in image.items()
        if name.startswith("m") and len(name) == 8 and name[5] == "-"
    }


def _registry_pages(change: StreamChange) -> list[PageSpec]:
    kind = change.pk.removeprefix("LISTS#")
    image = change.new_image or change.old_image or {}
    names = tuple(image.get("names") or ())
    specs = [PageSpec("landing", change.sk, names=names)]
    if kind in ("category", "tag"):
        specs.append(PageSpec("overview", kind))
        return specs
    old_months, new_months = _month_counts(change.old_image), _month_counts(change.new_image)
    changed = {m for m in old_months.keys() | new_months.keys() if old_months.get(m) != new_months.get(m)}
    specs += [PageSpec("year", year=int(m[1:5])) for m in changed]
    specs += [
        PageSpec("archives"),
        PageSpec("sitemap_index"),
        PageSpec("not_found"),
        PageSpec("robots"),
        PageSpec("overview", "category"),
        PageSpec("overview", "tag"),
    ]
    return specs


def affected_pages(changes: Iterable[StreamChange]) -> list[PageSpec]:
    """Every index page a batch of table changes can alter, each once."""
    specs: dict[PageSpec, PageSpec] = {}
    for change in changes:
        found: list[PageSpec] = []
        if change.pk.startswith("LIST#"):
            list_id = change.pk.removeprefix("LIST#")
            for image in (change.old_image, change.new_image):
                if image:
                    year, month = month_of(change.sk)
                    found += _list_pages(list_id, image.get("list_names") or (), year, month)
        elif change.pk.startswith("LISTS#"):
            found = _registry_pages(change)
        for spec in found:
            specs.setdefault(spec, spec)
    return sorted(specs, key=lambda s: (s.kind, s.list_id, s.year, s.month))


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
        new_published = new.get("status") == "published"
        if new_published and new.get("url") == old_url:
            if new.get("page_hash") != old.get("page_hash"):
                changed[old_url] = new.get("page_hash")
        else:
            changed.setdefault(old_url, None)
    return changed


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
    # Called after each render with the spec; lets tests force an interleaving of builders.
    on_rendered: Callable[[PageSpec], None] | None = None

    def build(self, changes: Sequence[StreamChange]) -> BuildReport:
        report = BuildReport()
        stale_urls: set[str] = set()
        for spec in affected_pages(changes):
            if self._sync(spec, report):
                stale_urls.add(spec.url)
        for url, expected_hash in post_page_changes(changes).items():
            self._await_post_page(url, expected_hash)
            stale_urls.add(url)
        if self.invalidator is not None and stale_urls:
            reference = caller_reference(change.sequence_number for change in changes)
            report.invalidation = self.invalidator.invalidate(stale_urls, reference)
        return report

    def _sync(self, spec: PageSpec, report: BuildReport) -> bool:
        """Write the page until the stored bytes equal a fresh render; True if it existed and changed."""
        existed_and_changed = False
        for _ in range(MAX_ROUNDS):
            page = self.render(spec)
            if self.on_rendered is not None:
                self.on_rendered(spec)
            outcome = self.site.sync(spec.url, page)
            if outcome == "unchanged":
                return existed_and_changed
            if outcome in ("updated", "deleted"):
                existed_and_changed = True
            target = report.pages_deleted if outcome == "deleted" else report.pages_written
            if spec.url not in target:
                target.append(spec.url)
        raise TransientError(f"{spec.url}: still changing after {MAX_ROUNDS} renders")

    def _await_post_page(self, url: str, expected_hash: str | None) -> None:
        """Give RenderPostFunction a moment to write the page before it is invalidated."""
        deadline = time.monotonic() + POST_PAGE_WAIT_SECONDS
        while self.site.stored_hash(url) != expected_hash and time.monotonic() < deadline:
            self.sleep(0.2)

    # -- rendering one page from bounded queries ---------------------------------------------
    def render(self, spec: PageSpec) -> Page | None:
        """The page as the table says it should be now, or None when it should not exist."""
        renderer, table = self.renderer, self.table
        if spec.kind == "not_found":
            return renderer.not_found()
        if spec.kind == "robots":
            return renderer.robots()
        if spec.kind == "overview":
            kind: Literal["category", "tag"] = "category" if spec.list_id == "category" else "tag"
            return renderer.overview(kind, table.list_summaries(kind))
        if spec.kind == "month" or spec.kind == "sitemap_month":
            entries = table.month_entries(spec.list_id, spec.year, spec.month)
            if not entries:
                return None
            if spec.kind == "sitemap_month":
                return renderer.sitemap_month(spec.year, spec.month, entries)
            return renderer.month_archive(spec.ref, spec.year, spec.month, entries)
        record = table.list_record(spec.ref if spec.list_id != "site" else SITE)
        is_site = spec.list_id == "site"
        if record.count <= 0 and not (is_site and spec.kind != "year"):
            return None
        ref = record.ref if record.ref.names else spec.ref
        if spec.kind == "landing":
            entries = table.newest_entries(spec.list_id, self.settings.per_page)
            return renderer.landing(ref if not is_site else SITE, entries, record.months)
        if spec.kind == "feed":
            entries = table.newest_entries(spec.list_id, self.settings.feed_limit)
            return renderer.feed(ref if not is_site else SITE, self._with_content(entries))
        if spec.kind == "year":
            months = [m for m in record.months if m.year == spec.year]
            return renderer.year_archive(spec.year, months) if months else None
        if spec.kind == "archives":
            return renderer.archives_index(record.months)
        return renderer.sitemap_index(record.months)

    def _with_content(self, entries: list[Entry]) -> list[Entry]:
        if self.settings.feed_content != "full" or not entries:
            return entries
        bodies = self.table.bodies([entry.source_key for entry in entries])
        return [replace(entry, content_html=bodies.get(entry.source_key)) for entry in entries]


__all__ = ["BuildReport", "IndexBuilder", "PageSpec", "affected_pages", "keys"]
