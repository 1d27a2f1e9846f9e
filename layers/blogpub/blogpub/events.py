"""Event decoding: S3 notifications (direct, in SQS, via EventBridge) and table streams.

Handlers call these first, so the rest of the package sees plain values: decoded object
keys, normalised sequencers and Python-typed stream images. ``table.table_changes`` then
turns each stream record into the typed changes below, which is all index pages react to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote_plus

from blogpub.keys import PK, SK
from blogpub.models import ListRef

ChangeKind = Literal["put", "delete_marker", "delete"]

# AWS: sequencers of one key may differ in length; right-pad the shorter with zeros,
# then compare as strings. Padding to a fixed width lets the table compare them too.
SEQUENCER_WIDTH = 64


def normalise_sequencer(sequencer: str) -> str:
    return sequencer.upper().ljust(SEQUENCER_WIDTH, "0")


@dataclass(frozen=True)
class S3Change:
    """One object change, as S3 reported it."""

    bucket: str
    key: str  # decoded
    kind: ChangeKind
    version_id: str | None
    sequencer: str  # normalised; "" when the event had none
    event_time: str = ""
    etag: str = ""
    size: int = 0
    request_id: str = ""
    force: bool = False  # a rebuild asks to re-render even an already-seen version

    @property
    def correlation_id(self) -> str:
        return f"{self.key}@{self.version_id or 'null'}"


class EventShapeError(ValueError):
    """An event that is not one of the shapes blogpub accepts."""


def _s3_notification_change(record: Mapping[str, Any]) -> S3Change:
    s3 = record["s3"]
    obj = s3["object"]
    name = str(record.get("eventName", ""))
    kind: ChangeKind = "put"
    if name.startswith("ObjectRemoved:"):
        kind = "delete_marker" if name.endswith("DeleteMarkerCreated") else "delete"
    return S3Change(
        bucket=s3["bucket"]["name"],
        key=unquote_plus(obj["key"]),
        kind=kind,
        version_id=obj.get("versionId") or None,
        sequencer=normalise_sequencer(obj.get("sequencer", "")),
        event_time=str(record.get("eventTime", "")),
        etag=str(obj.get("eTag", "")),
        size=int(obj.get("size", 0) or 0),
        request_id=str(record.get("responseElements", {}).get("x-amz-request-id", "")),
        force=bool(record.get("blogpub", {}).get("force", False)),
    )


def _eventbridge_change(event: Mapping[str, Any]) -> S3Change:
    detail = event["detail"]
    obj = detail["object"]
    detail_type = event.get("detail-type", "")
    kind: ChangeKind = "put"
    if detail_type == "Object Deleted":
        kind = (
            "delete_marker" if detail.get("deletion-type") == "Delete Marker Created" else "delete"
        )
    return S3Change(
        bucket=detail["bucket"]["name"],
        # EventBridge carries keys URL-encoded like S3 notifications do.
        key=unquote_plus(obj["key"]),
        kind=kind,
        version_id=obj.get("version-id") or None,
        sequencer=normalise_sequencer(obj.get("sequencer", "")),
        event_time=str(event.get("time", "")),
        etag=str(obj.get("etag", "")),
        size=int(obj.get("size", 0) or 0),
        request_id=str(detail.get("request-id", "")),
    )


def s3_changes(event: Mapping[str, Any]) -> Iterator[S3Change]:
    """Every object change in an S3 notification, an SQS batch of them, or an EventBridge event."""
    if event.get("source") == "aws.s3" and "detail" in event:
        yield _eventbridge_change(event)
        return
    records = event.get("Records")
    if not isinstance(records, list):
        raise EventShapeError("expected an S3, SQS or EventBridge event with Records or detail")
    for record in records:
        source = record.get("eventSource") or record.get("EventSource")
        if source == "aws:s3":
            yield _s3_notification_change(record)
        elif source == "aws:sqs":
            body = json.loads(record["body"])
            if body.get("Event") == "s3:TestEvent":
                continue
            yield from s3_changes(body)
        else:
            raise EventShapeError(f"unexpected event source {source!r}")


@dataclass(frozen=True)
class StreamChange:
    """One table stream record with its images as Python values."""

    event_name: Literal["INSERT", "MODIFY", "REMOVE"]
    pk: str
    sk: str
    new_image: Mapping[str, Any] | None
    old_image: Mapping[str, Any] | None
    sequence_number: str


@dataclass(frozen=True)
class MembershipChange:
    """A post entered, left or changed in one month of a listing."""

    ref: ListRef
    year: int
    month: int


@dataclass(frozen=True)
class MonthCountChange:
    """The post count of one month of a listing moved, or a rebuild touched it."""

    ref: ListRef
    year: int
    month: int
    old_count: int
    new_count: int
    rebuilt: bool = False  # rewritten by a rebuild: every page of the month renders again

    @property
    def opened_or_closed(self) -> bool:
        """The month gained its first post or lost its last."""
        return (self.old_count > 0) != (self.new_count > 0)


@dataclass(frozen=True)
class ListTotalChange:
    """A listing's post count (or names) changed, or a rebuild touched it."""

    ref: ListRef
    old_count: int
    new_count: int
    rebuilt: bool = False  # rewritten by a rebuild: every page of the listing renders again

    @property
    def opened_or_closed(self) -> bool:
        """The listing gained its first post or lost its last."""
        return (self.old_count > 0) != (self.new_count > 0)


PostStatus = Literal["published", "unpublished", "deleted", "absent"]


@dataclass(frozen=True)
class PostChange:
    """A post record changed: where its page was and is, with which bytes, in which lists."""

    source_key: str
    old_status: PostStatus | None  # None: no record before
    new_status: PostStatus | None  # None: the record was removed
    old_url: str | None
    new_url: str | None
    old_page_hash: str | None
    new_page_hash: str | None
    lists: tuple[ListRef, ...] = ()  # the listings it is in now
    old_month: tuple[int, int] | None = None  # (year, month) of its date before and after
    new_month: tuple[int, int] | None = None

    @property
    def was_published(self) -> bool:
        return self.old_status == "published"

    @property
    def is_published(self) -> bool:
        return self.new_status == "published"

    @property
    def moved_month(self) -> bool:
        """Published before and after, in another month: its listings' totals stay, so their
        change counters do not move (the transaction's size bound) and the pages that show
        them are rendered again whatever they remember."""
        return self.was_published and self.is_published and self.old_month != self.new_month


@dataclass(frozen=True)
class NameChange:
    """A post name's claim moved (its owner published, re-titled, moved or removed it);
    ``linked`` says whether any post ever linked to the name, so only then are its reverse
    links read and the posts that link to it re-rendered."""

    name: str
    changed: bool
    linked: bool


@dataclass(frozen=True)
class UrlReleased:
    """A URL claim that a rejected key waits for (``waited``) was given up: its waiters are
    re-rendered, so a publish rejected as url-conflict is not lost to upload order."""

    url: str


@dataclass(frozen=True)
class SitemapPageChange:
    """A standalone page entered, moved in or left the pages sitemap."""

    source_key: str


TableChange = (
    MembershipChange
    | MonthCountChange
    | ListTotalChange
    | PostChange
    | NameChange
    | SitemapPageChange
    | UrlReleased
)


def stream_changes(event: Mapping[str, Any]) -> list[StreamChange]:
    """The records of a DynamoDB stream batch, decoded from DynamoDB JSON."""
    from blogpub.dynamodb_json import deserialize

    def image(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if not raw:
            return None
        # Lambda hands stream images over as JSON, where binary values are base64 text.
        return {name: deserialize(value, base64_binary=True) for name, value in raw.items()}

    changes = []
    for record in event.get("Records", []):
        ddb = record["dynamodb"]
        keys = image(ddb["Keys"]) or {}
        changes.append(
            StreamChange(
                event_name=record["eventName"],
                pk=str(keys[PK]),
                sk=str(keys[SK]),
                new_image=image(ddb.get("NewImage")),
                old_image=image(ddb.get("OldImage")),
                sequence_number=str(ddb["SequenceNumber"]),
            )
        )
    return changes
