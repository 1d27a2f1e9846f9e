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

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from blogpub import keys
from blogpub.errors import KeyTooLongError, TooLargeError
from blogpub.events import (
    ListTotalChange,
    MembershipChange,
    MonthCountChange,
    PostChange,
    PostStatus,
    SitemapPageChange,
    StreamChange,
    TableChange,
)
from blogpub.models import Entry, ListKind, ListRef, ListSummary, MonthCount

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
# out and in, two month counts) besides the post record, URL claims and activity record;
# the reader's limits on category levels and tags keep a post within this many listings.
MAX_LISTINGS = (MAX_TRANSACTION_ITEMS - 4) // 4
# Feed entries need full bodies; keep them on the post record while they fit in an item.
MAX_STORED_BODY_BYTES = 300 * 1024
FAILURE_TTL_SECONDS = 90 * 24 * 3600
ACTIVITY_TTL_SECONDS = 30 * 24 * 3600
# Attributes of the count items (registry and month count) and of memberships.
COUNT = "n"
NAMES = "names"
LIST_NAMES = "list_names"
REBUILT_BY = "rebuilt_by"  # the marker a rebuild's touch rewrites

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: _serializer.serialize(value) for name, value in values.items() if value is not None
    }


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value.value)  # type: ignore[attr-defined]  # untyped in boto3's stubs
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


def count_values(ref: ListRef, count: int, month: tuple[int, int] | None = None) -> dict[str, Any]:
    """A listing's total (``month`` None) or one month's count, as the item stores it."""
    if month is None:
        key = {keys.PK: keys.registry_pk(ref.kind), keys.SK: ref.list_id}
    else:
        key = {keys.PK: keys.months_pk(ref.list_id), keys.SK: keys.month_prefix(*month)}
    return {**key, COUNT: count, NAMES: list(ref.names) or None}


def _count(image: Mapping[str, Any] | None) -> int:
    return int((image or {}).get(COUNT, 0))


def _rebuilt(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """Rewritten by a rebuild: a new marker, so settings may have changed what it shows."""
    marker = (new or {}).get(REBUILT_BY)
    return bool(marker) and marker != (old or {}).get(REBUILT_BY)


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
    )


def table_changes(change: StreamChange) -> list[TableChange]:
    """What one stream record means to index pages, as typed changes (none for items that
    no page shows: URL claims, failures, activity, audits)."""
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
    if kind == "registry":
        ref = list_ref_from_id(change.sk, either.get(NAMES) or ())
        return [ListTotalChange(ref, _count(old), _count(new), _rebuilt(old, new))]
    if kind == "month_count":
        ref = list_ref_from_id(named, either.get(NAMES) or ())
        year, month = keys.month_of(change.sk)
        return [MonthCountChange(ref, year, month, _count(old), _count(new), _rebuilt(old, new))]
    if kind == "post":
        return [_post_change(named, old, new)]
    if kind == "sitemap_page":
        return [SitemapPageChange(change.sk)]
    return []


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
    in_sitemap: bool = False  # a standalone page: listed in /sitemaps/pages.xml

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
            "in_sitemap": True if self.in_sitemap else None,
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
            in_sitemap=bool(values.get("in_sitemap")),
        )


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
            keys.TTL_ATTRIBUTE: expires_at,
        }


@dataclass(frozen=True)
class ListRecord:
    ref: ListRef
    count: int
    months: tuple[MonthCount, ...] = ()  # newest first, only months with posts, when loaded


@dataclass
class TransactionPlan:
    """The items of one publish transaction, and what the builder will see change."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, operation: str, body: dict[str, Any]) -> None:
        self.items.append({operation: body})


class ConcurrentChangeError(Exception):
    """The post record changed between reading it and writing it."""


class UrlTakenError(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


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

        Raises ConcurrentChangeError when the stored record is no longer ``old`` and
        UrlTakenError when another post owns ``new.url``.
        """
        plan = plan_transaction(self.name, old, new)
        for values in extra_items:
            plan.add("Put", {"TableName": self.name, "Item": to_item(values)})
        check_transaction(plan.items)
        try:
            self.client.transact_write_items(TransactItems=plan.items)  # type: ignore[arg-type]
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = [r.get("Code", "") for r in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConcurrentChangeError(new.source_key) from error
            if "ConditionalCheckFailed" in reasons and new.url:
                raise UrlTakenError(new.url) from error
            raise

    def put_items(self, items: Iterable[Mapping[str, Any]]) -> None:
        for values in items:
            self.client.put_item(TableName=self.name, Item=to_item(values))

    # -- listings --------------------------------------------------------------------------
    def newest_entries(self, list_id: str, limit: int) -> list[Entry]:
        response = self.client.query(
            TableName=self.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": keys.list_pk(list_id)}),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_entry_from_values(from_item(item)) for item in response.get("Items", [])]

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
        for the site, the site-wide pages."""
        return self._touch({keys.PK: keys.registry_pk(ref.kind), keys.SK: ref.list_id}, marker)

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
            "UpdateExpression": f"SET {REBUILT_BY} = :marker",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": to_item({":marker": marker}),
        }
        if only_with_posts:  # a count item left at zero by its last post's removal
            request["ConditionExpression"] += " AND #n > :zero"
            request["ExpressionAttributeNames"] = {"#n": COUNT}
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
    ) -> Iterator[dict[str, Any]]:
        """Every item of a key condition, read ``page`` items per request when given (so a
        caller that stops early reads little)."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": not newest_first,
        }
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
    *("cover", "author", "removed_url", "in_sitemap"),
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
    plan.add("Put", post_put)
    old_published = old if old is not None and old.status == "published" else None
    new_published = new if new.status == "published" else None
    _plan_url_claims(plan, table, old_published, new_published, new.source_key)
    _plan_sitemap_page(plan, table, old_published, new_published, new.source_key)
    _plan_memberships(plan, table, _memberships(old_published), _memberships(new_published))
    return plan


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
        )


def _plan_sitemap_page(
    plan: TransactionPlan,
    table: str,
    old: PostRecord | None,
    new: PostRecord | None,
    source_key: str,
) -> None:
    """A standalone page's one item in the pages sitemap: written when it appears or moves,
    removed when it goes."""
    old_url = old.url if old is not None and old.in_sitemap else None
    new_url = new.url if new is not None and new.in_sitemap else None
    key = {keys.PK: keys.PAGES_PK, keys.SK: source_key}
    if new_url and new_url != old_url:
        plan.add("Put", {"TableName": table, "Item": to_item({**key, "url": new_url})})
    elif old_url and not new_url:
        plan.add("Delete", {"TableName": table, "Key": to_item(key)})


Membership = tuple[ListRef, str, Entry]  # the listing, the sort key, what it shows


@dataclass
class _CountDeltas:
    """How each listing's total and its months' counts move in one publish."""

    refs: dict[str, ListRef] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    months: dict[tuple[str, str], int] = field(default_factory=dict)

    def shift(self, ref: ListRef, sort_key: str, delta: int, *, total: bool) -> None:
        self.refs[ref.list_id] = ref
        if total:
            self.totals[ref.list_id] = self.totals.get(ref.list_id, 0) + delta
        month = keys.month_prefix(*keys.month_of(sort_key))
        self.months[ref.list_id, month] = self.months.get((ref.list_id, month), 0) + delta

    def updates(self, table: str) -> Iterator[dict[str, Any]]:
        """One ADD per changed count: the listing's registry item, then each month's item."""
        for list_id, delta in sorted(self.totals.items()):
            if delta:
                ref = self.refs[list_id]
                key = {keys.PK: keys.registry_pk(ref.kind), keys.SK: list_id}
                yield _count_update(table, key, ref, delta)
        for (list_id, month), delta in sorted(self.months.items()):
            if delta:
                key = {keys.PK: keys.months_pk(list_id), keys.SK: month}
                yield _count_update(table, key, self.refs[list_id], delta)


def _count_update(table: str, key: Mapping[str, Any], ref: ListRef, delta: int) -> dict[str, Any]:
    names: dict[str, str] = {"#n": COUNT}
    values: dict[str, Any] = {":d": delta}
    expression = "ADD #n :d"
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
        if previous is not None and previous[1] == sort_key and previous[2] == entry:
            continue  # nothing a listing shows has changed
        item = to_item(membership_values(ref, sort_key, entry))
        plan.add("Put", {"TableName": table, "Item": item})
        if previous is None or previous[1] != sort_key:
            deltas.shift(ref, sort_key, +1, total=previous is None)
    for update in deltas.updates(table):
        plan.add("Update", update)


def _memberships(record: PostRecord | None) -> dict[str, Membership]:
    if record is None or record.entry is None or record.sort_key is None:
        return {}
    return {ref.list_id: (ref, record.sort_key, record.entry) for ref in record.lists}
