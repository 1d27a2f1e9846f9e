"""DynamoDB data access: post records, URL claims, list memberships and list registries.

Only this module knows item shapes (keys come from keys.py): it writes items, reads them
back as typed records, and turns stream records into typed changes (``table_changes``). A
publish is one transaction that moves a post's memberships and counts from its old state
to its new one, guarded by the post's stored S3 sequencer, so concurrent or repeated events
cannot both apply.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from blogpub import keys
from blogpub.dynamodb_json import deserialize, serialize
from blogpub.errors import KeyTooLongError, TooLargeError
from blogpub.events import (
    ListTotalChange,
    MembershipChange,
    MonthCountChange,
    NameChange,
    PostChange,
    PostStatus,
    SitemapPageChange,
    StreamChange,
    TableChange,
    UrlReleased,
)
from blogpub.models import SITE, Entry, ListKind, ListRef, ListSummary, MonthCount, StoredPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Outcome = Literal["published", "unpublished", "deleted", "rejected"]

MAX_TRANSACTION_ITEMS = 100
# DynamoDB's documented limits; a publish past one is the file's fault, found before AWS.
MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
# A publish that moves a post to another month writes four items per listing (membership
# out and in, two month counts) besides the post record, URL claims, activity record and the
# site's change counter; the reader's limits on category levels and tags keep a post within
# this many listings.
MAX_LISTINGS = (MAX_TRANSACTION_ITEMS - 5) // 4
# Feed entries need full bodies; keep them on the post record while they fit in an item.
MAX_STORED_BODY_BYTES = 300 * 1024
# A post's warnings (tags and formulas shown as text) kept on its records: the first few.
MAX_WARNINGS = 20
MAX_WARNING_CHARACTERS = 300
FAILURE_TTL_SECONDS = 90 * 24 * 3600
ACTIVITY_TTL_SECONDS = 30 * 24 * 3600
# Attributes of the count items (registry and month count) and of memberships.
COUNT = "n"
# A count item's change counter: added to in the transaction that changes what its listing
# (registry item) or month (month count) shows; index pages remember the value they were
# rendered from (docs/design.md, "Index work").
CHANGES = "changes"
# A page state item's fields (keys.page_state_pk): what the builder last wrote at the URL.
RENDERED_FROM = "rendered_from"
ETAG = "etag"
CONTENT_HASH = "sha256"
NAMES = "names"
LIST_NAMES = "list_names"
REBUILT_BY = "rebuilt_by"  # the marker a rebuild's touch rewrites
# Attributes of a post name item (keys.name_pk): its owner's URL and title, and a flag a
# linking post sets, so a name nobody links to costs the index builder no query.
OWNER = "owner"
LINKED = "linked"
# Set on a URL claim (keys.url_pk) by a publish rejected as url-conflict, so a claim nobody
# waits for costs the index builder no query when it is given up.
WAITED = "waited"
# Distinct posts one post's post_link/post_path tags may name and be re-rendered for: each
# new one is two items of the publish transaction (DynamoDB allows 100 in all).
MAX_LINKED_POSTS = 30


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: serialize(value) for name, value in values.items() if value is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def list_ref_from_id(list_id: str, names: Sequence[str] = ()) -> ListRef:
    """The ListRef a list id names ("site", "category:a/b", "tag:x")."""
    if list_id == "site":
        return ListRef("site")
    kind, _, path = list_id.partition(":")
    if kind not in ("category", "tag"):
        raise ValueError(f"not a list id: {list_id!r}")
    slugs = tuple(path.split("/"))
    list_kind: ListKind = "category" if kind == "category" else "tag"
    return ListRef(list_kind, slugs, tuple(names) or slugs)


def counter_key(ref: ListRef | None, month: tuple[int, int] | None = None) -> dict[str, str]:
    """The item holding a change counter: a listing's total (``month`` None), one month's
    count, or (``ref`` None) the standalone pages' set."""
    if ref is None:
        return {keys.PK: keys.PAGE_SET_PK, keys.SK: keys.PAGE_SET_SK}
    if month is None:
        return {keys.PK: keys.registry_pk(ref.kind), keys.SK: ref.list_id}
    return {keys.PK: keys.months_pk(ref.list_id), keys.SK: keys.month_prefix(*month)}


def count_values(ref: ListRef, count: int, month: tuple[int, int] | None = None) -> dict[str, Any]:
    """A listing's total (``month`` None) or one month's count, as the item stores it."""
    return {**counter_key(ref, month), COUNT: count, NAMES: list(ref.names) or None}


def _count(image: Mapping[str, Any] | None) -> int:
    return int((image or {}).get(COUNT, 0))


def _rebuilt(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """Rewritten by a rebuild: a new marker, so settings may have changed what it shows."""
    marker = (new or {}).get(REBUILT_BY)
    return bool(marker) and marker != (old or {}).get(REBUILT_BY)


def _only_counted(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """A count item whose change counter alone moved: same count, names and rebuild marker
    (or made by its counter alone: the site's, by a standalone page before any post)."""
    before = old if old is not None else {}
    return (
        new is not None
        and (old is not None or set(new) <= {keys.PK, keys.SK, CHANGES})
        and _count(before) == _count(new)
        and before.get(NAMES) == new.get(NAMES)
        and before.get(REBUILT_BY) == new.get(REBUILT_BY)
    )


def _month(sort_key: str | None) -> tuple[int, int] | None:
    return keys.month_of(sort_key) if sort_key else None


def _post_change(
    source_key: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> PostChange:
    before, after = old or {}, new or {}
    return PostChange(
        source_key=source_key,
        old_status=before.get("status") if old else None,
        new_status=after.get("status") if new else None,
        old_url=before.get("url"),
        new_url=after.get("url"),
        old_page_hash=before.get("page_hash"),
        new_page_hash=after.get("page_hash"),
        lists=_lists_of(after),
        old_month=_month(before.get("sort_key")),
        new_month=_month(after.get("sort_key")),
    )


def table_changes(change: StreamChange) -> list[TableChange]:
    """What one stream record means to index pages, as typed changes (none for items that
    no page shows: failures, activity, audits, URL claims nobody waits for)."""
    kind, named = keys.partition_of(change.pk)
    old, new = change.old_image, change.new_image
    either = new or old or {}
    if kind == "membership":
        year, month = keys.month_of(change.sk)
        return [
            MembershipChange(list_ref_from_id(named, image.get(LIST_NAMES) or ()), year, month)
            for image in (old, new)
            if image
        ]
    if kind in ("registry", "month_count") and _only_counted(old, new):
        return []  # the memberships or post record of the same transaction reach the pages
    if kind == "registry":
        ref = list_ref_from_id(change.sk, either.get(NAMES) or ())
        return [ListTotalChange(ref, _count(old), _count(new), _rebuilt(old, new))]
    if kind == "month_count":
        ref = list_ref_from_id(named, either.get(NAMES) or ())
        year, month = keys.month_of(change.sk)
        return [MonthCountChange(ref, year, month, _count(old), _count(new), _rebuilt(old, new))]
    if kind == "post":
        return [_post_change(named, old, new)]
    if kind == "post_name":
        before, after = NameState.from_values(old), NameState.from_values(new)
        linked = bool((old or {}).get(LINKED) or (new or {}).get(LINKED))
        return [NameChange(named, before != after, linked)]
    if kind == "sitemap_page":
        return [SitemapPageChange(change.sk)]
    released = new is None or new.get(OWNER) != (old or {}).get(OWNER)
    if kind == "url_claim" and old and old.get(WAITED) and released:
        return [UrlReleased(named)]
    return []


@dataclass(frozen=True)
class NameState:
    """What a post name resolves to: its owner's URL and title (all None while no post owns it)."""

    owner: str | None = None
    url: str | None = None
    title: str | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | None) -> NameState:
        values = values or {}
        return cls(values.get(OWNER), values.get("url"), values.get("title"))


@dataclass(frozen=True)
class LinkSeen:
    """One post a post links to (by name), and the URL and title its page was rendered with
    (None: not published then, shown as text and pending)."""

    target: str
    url: str | None = None
    title: str | None = None

    def to_values(self) -> dict[str, Any]:
        return {"target": self.target, "url": self.url, "title": self.title}

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> LinkSeen:
        return cls(str(values["target"]), values.get("url"), values.get("title"))


@dataclass(frozen=True)
class PostRecord:
    """The table's view of one source key: what is published for it and what was seen last."""

    source_key: str
    sequencer: str  # last processed S3 sequencer, normalised
    status: PostStatus = "absent"
    last_outcome: Outcome | None = None
    version_id: str | None = None  # the source version the published state comes from
    last_version_id: str | None = None  # the newest version processed (maybe rejected)
    last_error: str | None = None
    last_error_reason: str | None = None
    url: str | None = None
    sort_key: str | None = None  # local date key: "2022-02-05T19:13:23"
    lists: tuple[ListRef, ...] = ()
    entry: Entry | None = None
    page_hash: str | None = None
    body_html: str | None = None  # for full-content feeds; None when too large
    processed_at: str = ""
    # Deleted or unpublished: the URL whose page the post had, until the page is gone (so a
    # retry of an event whose page removal failed can finish it).
    removed_url: str | None = None
    name: str | None = None  # the post name it owns (keys.name_pk), when published
    links: tuple[LinkSeen, ...] = ()  # the posts it links to, at most MAX_LINKED_POSTS

    @property
    def pending_links(self) -> tuple[str, ...]:
        """Names it links to that no published post owned when it was rendered."""
        return tuple(link.target for link in self.links if link.url is None)

    warnings: tuple[str, ...] = ()  # of the published version; bounded_warnings() cuts them
    in_sitemap: bool = False  # a standalone page: listed in /sitemaps/pages.xml
    # Rejected as url-conflict: the URL it waits for (keys.waiting_pk), re-rendered when freed.
    waiting_for: str | None = None
    # Names its asset_* tags may take from its asset folder, and those the folder had when it
    # was rendered: an asset arriving or going among them re-renders the post.
    asset_refs: tuple[str, ...] = ()
    assets_found: tuple[str, ...] = ()

    def to_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            keys.PK: keys.post_pk(self.source_key),
            keys.SK: keys.POST_SK,
            "source_key": self.source_key,
            "sequencer": self.sequencer,
            "status": self.status,
            "last_outcome": self.last_outcome,
            "version_id": self.version_id,
            "last_version_id": self.last_version_id,
            "last_error": self.last_error,
            "last_error_reason": self.last_error_reason,
            "url": self.url,
            "sort_key": self.sort_key,
            "lists": [ref.list_id for ref in self.lists] or None,
            LIST_NAMES: [list(ref.names) for ref in self.lists] or None,
            "page_hash": self.page_hash,
            "processed_at": self.processed_at or None,
            "removed_url": self.removed_url,
            "name": self.name,
            "links": [link.to_values() for link in self.links] or None,
            "warnings": list(bounded_warnings(self.warnings)) or None,
            "in_sitemap": True if self.in_sitemap else None,
            "waiting_for": self.waiting_for,
            "asset_refs": list(self.asset_refs) or None,
            "assets_found": list(self.assets_found) or None,
        }
        if self.entry is not None:
            values.update(_entry_values(self.entry))
        if self.body_html is not None:
            values["body_gz"] = zlib.compress(self.body_html.encode("utf-8"))
        return values

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> PostRecord:
        body = values.get("body_gz")
        return cls(
            source_key=values["source_key"],
            sequencer=values.get("sequencer", ""),
            status=values.get("status", "absent"),
            last_outcome=values.get("last_outcome"),
            version_id=values.get("version_id"),
            last_version_id=values.get("last_version_id"),
            last_error=values.get("last_error"),
            last_error_reason=values.get("last_error_reason"),
            url=values.get("url"),
            sort_key=values.get("sort_key"),
            lists=_lists_of(values),
            entry=_entry_from_values(values) if values.get("title") is not None else None,
            page_hash=values.get("page_hash"),
            body_html=zlib.decompress(body).decode("utf-8") if body else None,
            processed_at=values.get("processed_at", ""),
            removed_url=values.get("removed_url"),
            name=values.get("name"),
            links=tuple(LinkSeen.from_values(link) for link in values.get("links") or ()),
            warnings=tuple(values.get("warnings") or ()),
            in_sitemap=bool(values.get("in_sitemap")),
            waiting_for=values.get("waiting_for"),
            asset_refs=tuple(values.get("asset_refs") or ()),
            assets_found=tuple(values.get("assets_found") or ()),
        )


def bounded_warnings(warnings: Sequence[str]) -> tuple[str, ...]:
    """The first ``MAX_WARNINGS`` warnings, each cut to ``MAX_WARNING_CHARACTERS``, and a
    last line counting the rest: a post full of unknown tags keeps its item small."""
    kept = [warning[:MAX_WARNING_CHARACTERS] for warning in warnings[:MAX_WARNINGS]]
    if len(warnings) > MAX_WARNINGS:
        kept.append(f"... and {len(warnings) - MAX_WARNINGS} more warnings")
    return tuple(kept)


def _lists_of(values: Mapping[str, Any]) -> tuple[ListRef, ...]:
    list_ids = values.get("lists") or []
    list_names = values.get(LIST_NAMES) or [[] for _ in list_ids]
    return tuple(
        list_ref_from_id(list_id, names)
        for list_id, names in zip(list_ids, list_names, strict=True)
    )


def _entry_values(entry: Entry) -> dict[str, Any]:
    return {
        "source_key": entry.source_key,
        "title": entry.title,
        "url": entry.url,
        "date": entry.date.isoformat(),
        "updated": entry.updated.isoformat() if entry.updated else None,
        "excerpt_html": entry.excerpt_html,
        "cover": entry.cover,
        "author": entry.author,
    }


def _entry_from_values(values: Mapping[str, Any]) -> Entry:
    updated = values.get("updated")
    return Entry(
        source_key=values["source_key"],
        title=values["title"],
        url=values["url"],
        date=datetime.fromisoformat(values["date"]),
        updated=datetime.fromisoformat(updated) if updated else None,
        excerpt_html=values.get("excerpt_html", ""),
        cover=values.get("cover"),
        author=values.get("author"),
    )


@dataclass(frozen=True)
class NewestEntries:
    """A listing's newest entries, newest first, each with the month it is listed under, and
    whether the read reached the listing's end."""

    entries: list[Entry]
    months: list[tuple[int, int]]
    complete: bool

    def in_month(self, year: int, month: int) -> list[Entry] | None:
        """Every entry of the month, newest first, when this read holds them all (it went past
        the month, or reached the listing's end); None when a month query must tell."""
        if not self.complete and not any(listed < (year, month) for listed in self.months):
            return None
        return [
            entry
            for entry, listed in zip(self.entries, self.months, strict=True)
            if listed == (year, month)
        ]


@dataclass(frozen=True)
class EventRecord:
    """One failure or activity record: a processed upload and what became of it."""

    at: str  # ISO time the pipeline processed it
    source_key: str
    version_id: str | None
    outcome: str | None = None  # activity: published, unpublished, deleted, rejected
    url: str | None = None
    reason: str | None = None  # failures: the PostError reason slug
    error: str | None = None
    request_id: str | None = None  # the S3 request that wrote the version
    warnings: tuple[str, ...] = ()  # activity: what of the post was shown as text

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> EventRecord:
        return cls(
            at=keys.event_of(str(values[keys.SK])).at,
            source_key=str(values.get("source_key", "")),
            version_id=values.get("version_id"),
            outcome=values.get("outcome"),
            url=values.get("url"),
            reason=values.get("reason"),
            error=values.get("error"),
            request_id=values.get("request_id"),
            warnings=tuple(values.get("warnings") or ()),
        )

    def to_values(self, partition: str, expires_at: int) -> dict[str, Any]:
        """The item in ``keys.FAIL_PK`` or ``keys.ACTIVITY_PK``, kept until ``expires_at``."""
        return {
            keys.PK: partition,
            keys.SK: keys.event_sk(self.at, self.source_key, self.version_id or "null"),
            "source_key": self.source_key,
            "version_id": self.version_id,
            "outcome": self.outcome,
            "url": self.url,
            "reason": self.reason,
            "error": self.error,
            "request_id": self.request_id,
            "warnings": list(bounded_warnings(self.warnings)) or None,
            keys.TTL_ATTRIBUTE: expires_at,
        }


@dataclass(frozen=True)
class ListRecord:
    ref: ListRef
    count: int
    months: tuple[MonthCount, ...] = ()  # newest first, only months with posts, when loaded


ItemRole = Literal["post", "url", "name", "link", "wait", "other"]


@dataclass
class TransactionPlan:
    """The items of one publish transaction, and what the builder will see change."""

    items: list[dict[str, Any]] = field(default_factory=list)
    # What each item is for: a cancelled transaction names the items whose condition failed.
    roles: list[ItemRole] = field(default_factory=list)

    def add(self, operation: str, body: dict[str, Any], role: ItemRole = "other") -> None:
        self.items.append({operation: body})
        self.roles.append(role)


class ConcurrentChangeError(Exception):
    """The post record changed between reading it and writing it."""


class UrlTakenError(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class NameTakenError(Exception):
    """Another source file owns the post name (``a.md`` beside ``a.markdown``)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass
class PostTable:
    client: DynamoDBClient
    name: str

    # -- post records ----------------------------------------------------------------------
    def get_post(self, source_key: str) -> PostRecord | None:
        response = self.client.get_item(
            TableName=self.name,
            Key=to_item({keys.PK: keys.post_pk(source_key), keys.SK: keys.POST_SK}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return PostRecord.from_values(from_item(item)) if item else None

    def name_owner(self, name: str) -> str | None:
        return self.resolve_names([name]).get(name, NameState()).owner

    def resolve_names(self, names: Sequence[str]) -> dict[str, NameState]:
        """What each post name resolves to now (absent: never claimed nor linked), one
        BatchGetItem per 100 names."""
        found: dict[str, NameState] = {}
        distinct = list(dict.fromkeys(names))
        for start in range(0, len(distinct), 100):
            request_keys = [
                to_item({keys.PK: keys.name_pk(name), keys.SK: keys.NAME_SK})
                for name in distinct[start : start + 100]
            ]
            pending: dict[str, Any] = {self.name: {"Keys": request_keys, "ConsistentRead": True}}
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.name, []):
                    values = from_item(item)
                    found[keys.partition_of(values[keys.PK])[1]] = NameState.from_values(values)
                pending = dict(response.get("UnprocessedKeys") or {})
        return found

    def linkers_of(self, name: str) -> list[str]:
        """Source keys of the posts that link to a post name (one query, paged); strongly
        consistent, so a linker that committed before the name changed is found."""
        return [
            str(values[keys.SK])
            for values in self._query_all(
                "pk = :pk", {":pk": keys.linked_pk(name)}, consistent=True
            )
        ]

    def waiters_for(self, url: str) -> list[str]:
        """Source keys rejected as url-conflict at ``url`` and not published since (one
        query, paged, strongly consistent like ``linkers_of``)."""
        return [
            str(values[keys.SK])
            for values in self._query_all(
                "pk = :pk", {":pk": keys.waiting_pk(url)}, consistent=True
            )
        ]

    def url_owner(self, url: str) -> str | None:
        response = self.client.get_item(
            TableName=self.name,
            Key=to_item({keys.PK: keys.url_pk(url), keys.SK: keys.URL_SK}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return str(from_item(item)["owner"]) if item else None

    def commit(
        self,
        old: PostRecord | None,
        new: PostRecord,
        *,
        extra_items: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        """Move the post from ``old`` to ``new`` in one transaction.

        Raises ConcurrentChangeError when the stored record is no longer ``old`` or a post
        it links to no longer resolves as its page was rendered with, UrlTakenError when
        another post owns ``new.url`` and NameTakenError when another owns ``new.name``.
        """
        plan = plan_transaction(self.name, old, new)
        for values in extra_items:
            plan.add("Put", {"TableName": self.name, "Item": to_item(values)})
        check_transaction(plan.items)
        try:
            self.client.transact_write_items(TransactItems=plan.items)  # type: ignore[arg-type]
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = [r.get("Code", "") for r in error.response.get("CancellationReasons", [])]
            failed = {
                role
                for role, reason in zip(plan.roles, reasons, strict=False)
                if reason == "ConditionalCheckFailed"
            }
            if failed & {"post", "link", "wait"}:
                raise ConcurrentChangeError(new.source_key) from error
            if "url" in failed and new.url:
                raise UrlTakenError(new.url) from error
            if "name" in failed and new.name:
                raise NameTakenError(new.name) from error
            raise

    def put_items(self, items: Iterable[Mapping[str, Any]]) -> None:
        for values in items:
            self.client.put_item(TableName=self.name, Item=to_item(values))

    # -- listings --------------------------------------------------------------------------
    def newest_entries(self, list_id: str, limit: int) -> list[Entry]:
        return self.newest(list_id, limit).entries

    def newest(self, list_id: str, limit: int) -> NewestEntries:
        """The ``limit`` newest entries of a listing in one query, with their months."""
        response = self.client.query(
            TableName=self.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": keys.list_pk(list_id)}),
            ScanIndexForward=False,
            Limit=limit,
        )
        items = [from_item(item) for item in response.get("Items", [])]
        return NewestEntries(
            entries=[_entry_from_values(values) for values in items],
            months=[keys.month_of(values[keys.SK]) for values in items],
            complete="LastEvaluatedKey" not in response,
        )

    def month_entries(self, list_id: str, year: int, month: int) -> list[Entry]:
        """Every entry of one month of a listing, newest first."""
        return [
            _entry_from_values(values)
            for values in self._query_all(
                "pk = :pk AND begins_with(sk, :month)",
                {":pk": keys.list_pk(list_id), ":month": keys.month_prefix(year, month)},
                newest_first=True,
            )
        ]

    def list_records(self, kind: ListKind, *, with_months: bool = False) -> list[ListRecord]:
        """Every listing of a kind that has posts, with its count (and its months: one more
        query per listing)."""
        records = [
            _list_record(values)
            for values in self._query_all("pk = :pk", {":pk": keys.registry_pk(kind)})
        ]
        return self._with_posts(records, with_months=with_months)

    def _with_posts(self, records: Iterable[ListRecord], *, with_months: bool) -> list[ListRecord]:
        """The records of listings that have posts, their months loaded when asked."""
        return [
            replace(record, months=tuple(self.list_months(record.ref.list_id)))
            if with_months
            else record
            for record in records
            if record.count > 0
        ]

    # -- month counts: one small item per listing and month --------------------------------
    def recent_months(self, list_id: str, limit: int) -> list[MonthCount]:
        """The ``limit`` newest months of a listing that hold posts, newest first."""
        return list(itertools.islice(self._months(list_id, page=max(limit, 1)), limit))

    def months_in_year(self, list_id: str, year: int) -> list[MonthCount]:
        """The months of one year of a listing that hold posts, newest first."""
        return list(
            self._months(list_id, between=(keys.month_prefix(year, 1), keys.month_prefix(year, 12)))
        )

    def list_months(self, list_id: str) -> list[MonthCount]:
        """Every month of a listing that holds posts, newest first (archive indexes, admin)."""
        return list(self._months(list_id))

    def _months(
        self, list_id: str, *, between: tuple[str, str] | None = None, page: int | None = None
    ) -> Iterator[MonthCount]:
        """A listing's months with posts, newest first."""
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": keys.months_pk(list_id)}
        if between is not None:
            condition += " AND sk BETWEEN :first AND :last"
            values[":first"], values[":last"] = between
        for item in self._query_all(condition, values, newest_first=True, page=page):
            count = _count(item)
            if count > 0:  # a month whose posts all left keeps its item at zero
                year, month = keys.month_of(item[keys.SK])
                yield MonthCount(year, month, count)

    def change_counters(
        self, counters: Iterable[tuple[ListRef | None, tuple[int, int] | None]]
    ) -> dict[tuple[ListRef | None, tuple[int, int] | None], int]:
        """The change counters of listings (month None), months or (ref None) the standalone
        pages' set, by (ref, month), 0 for a counter item that does not exist; strongly
        consistent, one request per 100."""
        found, _ = self.page_inputs(counters, ())
        return found

    def page_inputs(
        self,
        counters: Iterable[tuple[ListRef | None, tuple[int, int] | None]],
        urls: Iterable[str],
    ) -> tuple[
        dict[tuple[ListRef | None, tuple[int, int] | None], int], dict[str, StoredPage | None]
    ]:
        """``change_counters`` and, in the same strongly consistent reads (one request per
        100 items), the state the index builder recorded for each page URL
        (``put_page_states``), None where it recorded none."""
        found = dict.fromkeys(counters, 0)
        states: dict[str, StoredPage | None] = dict.fromkeys(urls)
        by_key: dict[tuple[str, str], tuple[ListRef | None, tuple[int, int] | None] | str] = {}
        for ref, month in found:
            key = counter_key(ref, month)
            by_key[key[keys.PK], key[keys.SK]] = (ref, month)
        for url in states:
            by_key[keys.page_state_pk(url), keys.PAGE_STATE_SK] = url
        request_keys = [to_item({keys.PK: pk, keys.SK: sk}) for pk, sk in by_key]
        fields = {"#pk": keys.PK, "#sk": keys.SK, "#c": CHANGES}
        fields |= {"#r": RENDERED_FROM, "#e": ETAG, "#h": CONTENT_HASH}
        projection = {
            "ProjectionExpression": ", ".join(fields),
            "ExpressionAttributeNames": fields,
            "ConsistentRead": True,
        }
        for start in range(0, len(request_keys), 100):
            pending: dict[str, Any] = {
                self.name: {"Keys": request_keys[start : start + 100], **projection}
            }
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.name, []):
                    values = from_item(item)
                    wanted = by_key[values[keys.PK], values[keys.SK]]
                    if isinstance(wanted, str):
                        states[wanted] = StoredPage(
                            etag=str(values.get(ETAG, "")),
                            content_hash=str(values.get(CONTENT_HASH, "")),
                            rendered_from=int(values[RENDERED_FROM]),
                        )
                    else:
                        found[wanted] = int(values.get(CHANGES, 0))
                pending = dict(response.get("UnprocessedKeys") or {})
        return found, states

    def put_page_states(self, states: Mapping[str, StoredPage | None]) -> None:
        """Record what the index builder wrote at each URL (None: nothing is stored there),
        one request per 25. Written after the pages, unconditionally: a state is a hint that
        spares a HEAD, never the truth (the write it guides is conditional on the object)."""
        requests: list[dict[str, Any]] = []
        for url, state in states.items():
            key = {keys.PK: keys.page_state_pk(url), keys.SK: keys.PAGE_STATE_SK}
            if state is None or state.rendered_from is None:
                requests.append({"DeleteRequest": {"Key": to_item(key)}})
                continue
            values = key | {
                RENDERED_FROM: state.rendered_from,
                ETAG: state.etag,
                CONTENT_HASH: state.content_hash,
            }
            requests.append({"PutRequest": {"Item": to_item(values)}})
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.name: requests[start : start + 25]}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = dict(response.get("UnprocessedItems") or {})

    def list_summaries(self, kind: ListKind) -> list[ListSummary]:
        return [ListSummary(record.ref, record.count) for record in self.list_records(kind)]

    def bodies(self, source_keys: Sequence[str]) -> dict[str, str]:
        """Stored full bodies of posts, for full-content feeds (one request per 100 keys)."""
        found: dict[str, str] = {}
        for start in range(0, len(source_keys), 100):
            request_keys = [
                to_item({keys.PK: keys.post_pk(key), keys.SK: keys.POST_SK})
                for key in source_keys[start : start + 100]
            ]
            pending: dict[str, Any] = {
                self.name: {"Keys": request_keys, "ProjectionExpression": "source_key, body_gz"}
            }
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.name, []):
                    values = from_item(item)
                    if values.get("body_gz"):
                        found[values["source_key"]] = zlib.decompress(values["body_gz"]).decode()
                pending = dict(response.get("UnprocessedKeys") or {})
        return found

    def sitemap_pages(self) -> list[str]:
        """The URLs of the site's standalone pages, by source key."""
        return [str(item["url"]) for item in self._query_all("pk = :pk", {":pk": keys.PAGES_PK})]

    def recent_activity(self, limit: int) -> list[EventRecord]:
        """The newest ``limit`` processed uploads, newest first."""
        return [EventRecord.from_values(v) for v in self.recent(keys.ACTIVITY_PK, limit)]

    def recent_failures(self, limit: int) -> list[EventRecord]:
        """The newest ``limit`` rejected uploads, newest first."""
        return [EventRecord.from_values(v) for v in self.recent(keys.FAIL_PK, limit)]

    def put_audit(self, at_iso: str, request_id: str, fields: Mapping[str, Any]) -> None:
        """One audit record: what an admin request asked and what became of it."""
        self.put_items(
            [{**fields, keys.PK: keys.AUDIT_PK, keys.SK: keys.audit_sk(at_iso, request_id)}]
        )

    def recent(self, partition: str, limit: int) -> list[dict[str, Any]]:
        """Newest items of a time-ordered partition (keys.FAIL_PK, ACTIVITY_PK, AUDIT_PK)."""
        response = self.client.query(
            TableName=self.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": partition}),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_item(item) for item in response.get("Items", [])]

    # -- admin reads (history, rebuild, verify) ----------------------------------------------
    def get_posts(self, source_keys: Sequence[str]) -> dict[str, PostRecord]:
        """Post records by source key, without their stored bodies (one request per 100 keys)."""
        found: dict[str, PostRecord] = {}
        for start in range(0, len(source_keys), 100):
            request_keys = [
                to_item({keys.PK: keys.post_pk(key), keys.SK: keys.POST_SK})
                for key in dict.fromkeys(source_keys[start : start + 100])
            ]
            pending: dict[str, Any] = {
                self.name: {"Keys": request_keys, "ConsistentRead": True, **_RECORD_PROJECTION}
            }
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.name, []):
                    record = PostRecord.from_values(from_item(item))
                    found[record.source_key] = record
                pending = dict(response.get("UnprocessedKeys") or {})
        return found

    def post_records(self) -> Iterator[PostRecord]:
        """Every post record, bodies left out. A scan: for verify only, never the pipeline."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "FilterExpression": "begins_with(#pk, :post)",
            **_RECORD_PROJECTION,
        }
        request["ExpressionAttributeNames"] = {
            **request["ExpressionAttributeNames"],
            "#pk": keys.PK,
        }
        request["ExpressionAttributeValues"] = to_item({":post": keys.post_pk("")})
        while True:
            response = self.client.scan(**request)
            for item in response.get("Items", []):
                yield PostRecord.from_values(from_item(item))
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def list_records_page(
        self, kind: ListKind, after: str | None, limit: int
    ) -> tuple[list[ListRecord], str | None]:
        """Up to ``limit`` listings of ``kind`` after list id ``after``, each with its months;
        where to go on."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": keys.registry_pk(kind)}),
            "Limit": limit,
        }
        if after is not None:
            request["ExclusiveStartKey"] = to_item(
                {keys.PK: keys.registry_pk(kind), keys.SK: after}
            )
        response = self.client.query(**request)
        records = [_list_record(from_item(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return self._with_posts(records, with_months=True), (
            str(from_item(last)[keys.SK]) if last else None
        )

    def touch_registry(self, ref: ListRef, marker: str) -> bool:
        """Rewrite a listing's registry item unchanged but for ``marker``: its stream record
        makes the index builder re-render the listing's landing, archive index and feed and,
        for the site, the site-wide pages (the pages sitemap among them, whose own counter
        moves first, so the batch that carries the site's record finds it moved)."""
        if ref == SITE:
            self._touch(counter_key(None), marker)
        return self._touch(counter_key(ref), marker)

    def touch_month(self, list_id: str, year: int, month: int, marker: str) -> bool:
        """Rewrite one month's count item likewise: that month's pages are re-rendered.
        False when the month has no post (any more)."""
        return self._touch(
            {keys.PK: keys.months_pk(list_id), keys.SK: keys.month_prefix(year, month)},
            marker,
            only_with_posts=True,
        )

    def _touch(self, key: Mapping[str, Any], marker: str, *, only_with_posts: bool = False) -> bool:
        request: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_item({keys.PK: key[keys.PK], keys.SK: key[keys.SK]}),
            # The change counter moves too: the pages rendered from it are rendered again.
            "UpdateExpression": f"SET {REBUILT_BY} = :marker ADD #c :one",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": {"#c": CHANGES},
            "ExpressionAttributeValues": to_item({":marker": marker, ":one": 1}),
        }
        if only_with_posts:  # a count item left at zero by its last post's removal
            request["ConditionExpression"] += " AND #n > :zero"
            request["ExpressionAttributeNames"]["#n"] = COUNT
            request["ExpressionAttributeValues"] |= to_item({":zero": 0})
        try:
            self.client.update_item(**request)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False  # removed meanwhile: its removal already reached the builder
        return True

    def activity_of(self, source_key: str, since_iso: str) -> list[EventRecord]:
        """Activity records of one post since a moment, oldest first.

        The activity partition is ordered by time, not key: this reads the window's activity
        of the whole site and keeps one post's (admin history only; records expire after
        ACTIVITY_TTL_SECONDS).
        """
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk AND sk >= :since",
            "FilterExpression": "source_key = :key",
            "ExpressionAttributeValues": to_item(
                {":pk": keys.ACTIVITY_PK, ":since": since_iso, ":key": source_key}
            ),
        }
        found: list[EventRecord] = []
        while True:
            response = self.client.query(**request)
            found += [
                EventRecord.from_values(from_item(item)) for item in response.get("Items", [])
            ]
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _query_all(
        self,
        condition: str,
        values: Mapping[str, Any],
        *,
        newest_first: bool = False,
        page: int | None = None,
        consistent: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a key condition, read ``page`` items per request when given (so a
        caller that stops early reads little)."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": not newest_first,
        }
        if consistent:
            request["ConsistentRead"] = True
        if page is not None:
            request["Limit"] = page
        while True:
            response = self.client.query(**request)
            for item in response.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


_RECORD_ATTRIBUTES = (
    *("pk", "sk", "source_key", "sequencer", "status", "last_outcome", "version_id"),
    *("last_version_id", "last_error", "last_error_reason", "url", "sort_key", "lists"),
    *("list_names", "page_hash", "processed_at", "title", "date", "updated", "excerpt_html"),
    *("cover", "author", "removed_url", "name", "links", "in_sitemap", "waiting_for"),
    *("asset_refs", "assets_found"),
)
# Every post record attribute but the stored body; several names are DynamoDB reserved words.
_RECORD_PROJECTION: dict[str, Any] = {
    "ProjectionExpression": ", ".join(f"#r{i}" for i in range(len(_RECORD_ATTRIBUTES))),
    "ExpressionAttributeNames": {f"#r{i}": name for i, name in enumerate(_RECORD_ATTRIBUTES)},
}


def _list_record(values: Mapping[str, Any]) -> ListRecord:
    ref = list_ref_from_id(values[keys.SK], values.get(NAMES) or ())
    return ListRecord(ref, _count(values))


def membership_values(ref: ListRef, sort_key: str, entry: Entry) -> dict[str, Any]:
    return {
        keys.PK: keys.list_pk(ref.list_id),
        keys.SK: keys.membership_sk(sort_key, entry.source_key),
        "list_id": ref.list_id,
        LIST_NAMES: list(ref.names) or None,
        **_entry_values(entry),
    }


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values, in bytes."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return len(str(inner).lstrip("-").replace(".", "")) // 2 + 2
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + item_size({name: element}) for name, element in inner.items())
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: element}) for element in inner)
    return 0


def check_transaction(items: Sequence[Mapping[str, Any]]) -> None:
    """Raise (a PostError) where DynamoDB would cancel the transaction for its size:
    item count, key sizes, item size, total size."""
    if len(items) > MAX_TRANSACTION_ITEMS:
        raise TooLargeError(
            f"{len(items)} table items in one publish; DynamoDB allows {MAX_TRANSACTION_ITEMS}"
        )
    total = 0
    for operation in items:
        (body,) = operation.values()
        key = body.get("Key") or {
            name: body["Item"][name] for name in (keys.PK, keys.SK) if name in body["Item"]
        }
        for name, limit in ((keys.PK, MAX_PARTITION_KEY_BYTES), (keys.SK, MAX_SORT_KEY_BYTES)):
            size = _value_size(key[name]) if name in key else 0
            if size > limit:
                raise KeyTooLongError(
                    f"a table {name} of {size} bytes; DynamoDB allows {limit}",
                    value=key[name].get("S", ""),
                )
        size = item_size(body.get("Item") or key) + sum(
            _value_size(value) for value in body.get("ExpressionAttributeValues", {}).values()
        )
        if size > MAX_ITEM_BYTES:
            raise TooLargeError(f"a table item of {size} bytes; DynamoDB allows {MAX_ITEM_BYTES}")
        total += size
    if total > MAX_TRANSACTION_BYTES:
        raise TooLargeError(
            f"{total} bytes in one publish transaction; DynamoDB allows {MAX_TRANSACTION_BYTES}"
        )


def plan_transaction(table: str, old: PostRecord | None, new: PostRecord) -> TransactionPlan:
    """The transaction that moves a post's table state from ``old`` to ``new``.

    The post record goes first, so a failed condition at index 0 means a concurrent change.
    """
    plan = TransactionPlan()
    post_put: dict[str, Any] = {"TableName": table, "Item": to_item(new.to_values())}
    if old is None:
        post_put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        post_put["ConditionExpression"] = "sequencer = :seq"
        post_put["ExpressionAttributeValues"] = to_item({":seq": old.sequencer})
    plan.add("Put", post_put, "post")
    old_published = old if old is not None and old.status == "published" else None
    new_published = new if new.status == "published" else None
    _plan_url_claims(plan, table, old_published, new_published, new.source_key)
    _plan_sitemap_page(plan, table, old_published, new_published, new.source_key)
    _plan_memberships(
        plan,
        table,
        _memberships(old_published),
        _memberships(new_published),
        body_changed=old_published is not None
        and new_published is not None
        and old_published.page_hash != new_published.page_hash,
    )
    _plan_name_claim(plan, table, old_published, new_published, new.source_key)
    _plan_links(plan, table, old_published, new_published, new.source_key)
    _plan_waiting(plan, table, old, new)
    return plan


def _claim(record: PostRecord | None) -> NameState | None:
    if record is None or record.name is None:
        return None
    return NameState(record.source_key, record.url, record.entry.title if record.entry else None)


def _name_key(name: str) -> dict[str, Any]:
    return to_item({keys.PK: keys.name_pk(name), keys.SK: keys.NAME_SK})


def _plan_name_claim(
    plan: TransactionPlan,
    table: str,
    old: PostRecord | None,
    new: PostRecord | None,
    source_key: str,
) -> None:
    """Claim the post's name with its URL and title, or give it up; an update, so the
    ``linked`` flag of posts that linked to the name first stays."""
    before, after = _claim(old), _claim(new)
    if before == after:
        return
    names: dict[str, str] = {"#owner": OWNER, "#url": "url", "#title": "title"}
    if after is not None and new is not None and new.name is not None:
        plan.add(
            "Update",
            {
                "TableName": table,
                "Key": _name_key(new.name),
                "UpdateExpression": "SET #owner = :owner, #url = :url, #title = :title",
                "ConditionExpression": "attribute_not_exists(#owner) OR #owner = :owner",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(
                    {":owner": source_key, ":url": after.url, ":title": after.title or ""}
                ),
            },
            "name",
        )
    if old is not None and old.name is not None and (new is None or new.name != old.name):
        plan.add(
            "Update",
            {
                "TableName": table,
                "Key": _name_key(old.name),
                "UpdateExpression": "REMOVE #owner, #url, #title",
                "ConditionExpression": "#owner = :owner",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item({":owner": source_key}),
            },
            "post",
        )


def _seen_condition(link: LinkSeen) -> dict[str, Any]:
    """The name still resolves as the page was rendered with (or still to no post)."""
    if link.url is None:
        return {
            "ConditionExpression": "attribute_not_exists(#url)",
            "ExpressionAttributeNames": {"#url": "url"},
        }
    return {
        "ConditionExpression": "#url = :url AND #title = :title",
        "ExpressionAttributeNames": {"#url": "url", "#title": "title"},
        "ExpressionAttributeValues": to_item({":url": link.url, ":title": link.title or ""}),
    }


def _plan_links(
    plan: TransactionPlan,
    table: str,
    old: PostRecord | None,
    new: PostRecord | None,
    source_key: str,
) -> None:
    """Reverse links in and out, and, for a fresh render, a check that every post it links
    to still resolves as the page shows it (else the publish decides again): a target that
    changes later finds this post among its reverse links."""
    own = {record.name for record in (old, new) if record is not None and record.name}
    before = {link.target for link in old.links} if old is not None else set()
    after = new.links if new is not None else ()
    fresh = new is not None and new.last_outcome == "published"
    for link in after:
        if link.target in own:
            continue  # a link to itself resolves to what this very transaction writes
        if link.target in before:
            if fresh:
                check = {"TableName": table, "Key": _name_key(link.target), **_seen_condition(link)}
                plan.add("ConditionCheck", check, "link")
            continue
        condition = _seen_condition(link)
        condition["ExpressionAttributeNames"]["#linked"] = LINKED
        condition["ExpressionAttributeValues"] = {
            **condition.get("ExpressionAttributeValues", {}),
            **to_item({":linked": True}),
        }
        plan.add(
            "Update",
            {
                "TableName": table,
                "Key": _name_key(link.target),
                "UpdateExpression": "SET #linked = :linked",
                **condition,
            },
            "link",
        )
        row = {keys.PK: keys.linked_pk(link.target), keys.SK: source_key}
        plan.add("Put", {"TableName": table, "Item": to_item(row)})
    kept = {link.target for link in after}
    for target in sorted(before - kept):
        row = {keys.PK: keys.linked_pk(target), keys.SK: source_key}
        plan.add("Delete", {"TableName": table, "Key": to_item(row)})


def _plan_url_claims(
    plan: TransactionPlan,
    table: str,
    old: PostRecord | None,
    new: PostRecord | None,
    source_key: str,
) -> None:
    old_url = old.url if old else None
    new_url = new.url if new else None
    owner_is_us: dict[str, Any] = {
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": to_item({":owner": source_key}),
    }
    if new_url and new_url != old_url:
        claim = {keys.PK: keys.url_pk(new_url), keys.SK: keys.URL_SK, "owner": source_key}
        plan.add(
            "Put",
            {
                "TableName": table,
                "Item": to_item(claim),
                "ConditionExpression": "attribute_not_exists(pk) OR #owner = :owner",
                **owner_is_us,
            },
            "url",
        )
    if old_url and old_url != new_url:
        plan.add(
            "Delete",
            {
                "TableName": table,
                "Key": to_item({keys.PK: keys.url_pk(old_url), keys.SK: keys.URL_SK}),
                "ConditionExpression": "#owner = :owner",
                **owner_is_us,
            },
            "url",
        )


def _plan_waiting(
    plan: TransactionPlan, table: str, old: PostRecord | None, new: PostRecord
) -> None:
    """A url-conflict rejection waits for the URL: a waiter item, and the ``waited`` flag on
    the claim (it must still exist, else the publish decides again and wins); any other
    outcome stops the wait. Nothing for a key that neither waits nor waited."""
    before = old.waiting_for if old is not None else None
    if before and before != new.waiting_for:
        row = {keys.PK: keys.waiting_pk(before), keys.SK: new.source_key}
        plan.add("Delete", {"TableName": table, "Key": to_item(row)})
    if not new.waiting_for:
        return
    claim = {keys.PK: keys.url_pk(new.waiting_for), keys.SK: keys.URL_SK}
    plan.add(
        "Update",
        {
            "TableName": table,
            "Key": to_item(claim),
            "UpdateExpression": "SET #waited = :waited",
            "ConditionExpression": "attribute_exists(pk) AND #owner <> :me",
            "ExpressionAttributeNames": {"#waited": WAITED, "#owner": OWNER},
            "ExpressionAttributeValues": to_item({":waited": True, ":me": new.source_key}),
        },
        "wait",
    )
    row = {keys.PK: keys.waiting_pk(new.waiting_for), keys.SK: new.source_key}
    plan.add("Put", {"TableName": table, "Item": to_item(row)})


def _plan_sitemap_page(
    plan: TransactionPlan,
    table: str,
    old: PostRecord | None,
    new: PostRecord | None,
    source_key: str,
) -> None:
    """A standalone page's one item in the pages sitemap: written when it appears or moves,
    removed when it goes, moving the change counters of the pages' set and of the site."""
    old_url = old.url if old is not None and old.in_sitemap else None
    new_url = new.url if new is not None and new.in_sitemap else None
    key = {keys.PK: keys.PAGES_PK, keys.SK: source_key}
    if new_url == old_url:
        return
    if new_url:
        plan.add("Put", {"TableName": table, "Item": to_item({**key, "url": new_url})})
    else:
        plan.add("Delete", {"TableName": table, "Key": to_item(key)})
    # The pages sitemap's counter, and the site's (the sitemap index links it while it exists).
    plan.add("Update", _count_update(table, counter_key(None), SITE, 0))
    plan.add("Update", _count_update(table, counter_key(SITE), SITE, 0))


Membership = tuple[ListRef, str, Entry]  # the listing, the sort key, what it shows


@dataclass
class _CountDeltas:
    """How each listing's total and its months' counts move in one publish, and which of
    their change counters move (every count item whose listing or month shows a change)."""

    refs: dict[str, ListRef] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    months: dict[tuple[str, str], int] = field(default_factory=dict)

    def shift(self, ref: ListRef, sort_key: str, delta: int, *, total: bool) -> None:
        self.refs[ref.list_id] = ref
        if total:
            self.totals[ref.list_id] = self.totals.get(ref.list_id, 0) + delta
        month = keys.month_prefix(*keys.month_of(sort_key))
        self.months[ref.list_id, month] = self.months.get((ref.list_id, month), 0) + delta

    def touch(self, ref: ListRef, sort_key: str | None = None) -> None:
        """Move the listing's change counter (or that month's) without moving a count."""
        self.refs[ref.list_id] = ref
        if sort_key is None:
            self.totals.setdefault(ref.list_id, 0)
        else:
            self.shift(ref, sort_key, 0, total=False)

    def updates(self, table: str) -> Iterator[dict[str, Any]]:
        """One update per count item: the listing's registry item, then each month's item.
        A listing whose total moves moves the site's counter too (the overviews' input)."""
        if any(self.totals.values()):
            self.touch(SITE)
        for list_id, delta in sorted(self.totals.items()):
            ref = self.refs[list_id]
            key = {keys.PK: keys.registry_pk(ref.kind), keys.SK: list_id}
            yield _count_update(table, key, ref, delta)
        for (list_id, month), delta in sorted(self.months.items()):
            key = {keys.PK: keys.months_pk(list_id), keys.SK: month}
            yield _count_update(table, key, self.refs[list_id], delta)


def _count_update(table: str, key: Mapping[str, Any], ref: ListRef, delta: int) -> dict[str, Any]:
    names: dict[str, str] = {"#c": CHANGES}
    values: dict[str, Any] = {":one": 1}
    expression = "ADD #c :one"
    if delta:
        expression += ", #n :d"
        names["#n"] = COUNT
        values[":d"] = delta
    if ref.names:
        expression += " SET #names = :names"
        names["#names"] = NAMES
        values[":names"] = list(ref.names)
    return {
        "TableName": table,
        "Key": to_item(key),
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_item(values),
    }


def _plan_memberships(
    plan: TransactionPlan,
    table: str,
    old_members: Mapping[str, Membership],
    new_members: Mapping[str, Membership],
    *,
    body_changed: bool = False,
) -> None:
    deltas = _CountDeltas()
    for list_id, (ref, sort_key, entry) in old_members.items():
        kept = new_members.get(list_id)
        if kept is not None and kept[1] == sort_key:
            continue
        membership_key = {
            keys.PK: keys.list_pk(list_id),
            keys.SK: keys.membership_sk(sort_key, entry.source_key),
        }
        plan.add("Delete", {"TableName": table, "Key": to_item(membership_key)})
        deltas.shift(ref, sort_key, -1, total=kept is None)
    for list_id, (ref, sort_key, entry) in new_members.items():
        previous = old_members.get(list_id)
        same_place = previous is not None and previous[1] == sort_key
        if same_place and previous is not None and previous[2] == entry:
            if body_changed:
                deltas.touch(ref)  # its feed shows the body
            continue  # nothing a listing shows has changed
        item = to_item(membership_values(ref, sort_key, entry))
        plan.add("Put", {"TableName": table, "Item": item})
        if same_place:
            deltas.touch(ref)
            deltas.touch(ref, sort_key)
        else:
            # Moved within the listing (previous set): the listing's total and counter stay;
            # the post record's change says so (events.PostChange.moved_month).
            deltas.shift(ref, sort_key, +1, total=previous is None)
    for update in deltas.updates(table):
        plan.add("Update", update)


def _memberships(record: PostRecord | None) -> dict[str, Membership]:
    if record is None or record.entry is None or record.sort_key is None:
        return {}
    return {ref.list_id: (ref, record.sort_key, record.entry) for ref in record.lists}
