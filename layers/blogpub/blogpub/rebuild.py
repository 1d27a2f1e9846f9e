"""Full-site rebuilds, fanned out through RebuildQueue so no invocation's time limit bounds a site.

A rebuild (after a ``_config.yml`` upload, or on an admin's request) is queue messages
that RenderPostFunction consumes, each one small:

- ``list-posts``: one ListObjectVersions page of the posts prefix becomes one forced
  S3-shaped event per post (SendMessageBatch, ten per call) plus a continuation message
  for the next page. Version listing, not ListObjectsV2: it names each key's current
  version and shows delete markers, so a lost event is repaired too.
- a forced S3 event per post (``blogpub.force``): the normal publish path re-renders the
  post with the current settings; entries that move reach index pages through the stream.
  It carries the sequencer the table held, so a newer version published meanwhile wins.
- ``index-pages``: a chunk of listings from the table registry. A settings change alters
  index pages whose table items do not move, so no stream record would reach them; the
  chunk touches each listing's registry item and each of its month count items (rewritten
  unchanged but for a ``rebuilt_by`` marker), and the stream hands those records to
  BuildIndexesFunction, which re-renders and writes every page of those listings the one
  way index pages are written (they expire within IndexPageTtlSeconds; re-rendered post
  pages that changed are invalidated, coalesced to wildcards past the threshold).

The same forced events re-render the posts that link to a post whose name now resolves
otherwise (published, re-titled, moved or removed): ``Rebuilder.rerender_posts``, sent by
the index builder when the name's stream record reaches it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote_plus

from blogpub import dates
from blogpub.config import Deployment
from blogpub.errors import TransientError
from blogpub.models import ListKind, MonthCount
from blogpub.sources import classify
from blogpub.table import ListRecord, PostRecord, PostTable
from blogpub.versions import SourceVersion, versions_in_listing

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

Step = Literal["list-posts", "index-pages"]
COMMAND_FIELD = "blogpub_rebuild"  # the key of a rebuild command in a message body
SQS_BATCH = 10  # SendMessageBatch's limit
# Sized so that a batch of ten messages fits RenderPostFunction's 30-second timeout.
LIST_PAGE_KEYS = 250
LISTS_PER_QUERY = 25
PARTS_PER_CHUNK = 100
LIST_KINDS: tuple[ListKind, ...] = ("site", "category", "tag")


@dataclass(frozen=True)
class RebuildCommand:
    """One unit of rebuild work; the body of one RebuildQueue message."""

    step: Step
    rebuild_id: str
    key_marker: str | None = None  # list-posts: where the previous page ended
    version_marker: str | None = None
    kind: ListKind = "site"  # index-pages: which registry, from which listing and part on
    after: str | None = None
    part_index: int = 0

    def body(self) -> str:
        return json.dumps({COMMAND_FIELD: asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> RebuildCommand:
        fields = body[COMMAND_FIELD]
        return cls(**{name: fields[name] for name in cls.__dataclass_fields__ if name in fields})


def split_rebuild_commands(event: Mapping[str, Any]) -> tuple[dict[str, Any], list[RebuildCommand]]:
    """The event without its rebuild-command SQS records, and those commands."""
    records = event.get("Records")
    if not isinstance(records, list):
        return dict(event), []
    commands, others = [], []
    for record in records:
        body = _json_body(record) if record.get("eventSource") == "aws:sqs" else None
        if isinstance(body, dict) and COMMAND_FIELD in body:
            commands.append(RebuildCommand.from_body(body))
        else:
            others.append(record)
    return {**event, "Records": others}, commands


def _json_body(record: Mapping[str, Any]) -> Any:
    try:
        return json.loads(record.get("body") or "null")
    except ValueError:
        return None


def first_commands(rebuild_id: str) -> list[RebuildCommand]:
    """What starts a rebuild: the first listing page, and every registry from its start."""
    return [
        RebuildCommand("list-posts", rebuild_id),
        *(RebuildCommand("index-pages", rebuild_id, kind=kind) for kind in LIST_KINDS),
    ]


def forced_event(
    bucket: str, version: SourceVersion, sequencer: str, rebuild_id: str
) -> dict[str, Any]:
    """An S3 notification for the key's current version that publish re-renders even if seen."""
    name = "ObjectRemoved:DeleteMarkerCreated" if version.is_delete_marker else "ObjectCreated:Put"
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": name,
                "eventTime": dates.event_time(version.last_modified),
                "responseElements": {"x-amz-request-id": f"rebuild-{rebuild_id}"},
                "s3": {
                    "bucket": {"name": bucket},
                    "object": {
                        "key": quote_plus(version.key, safe="/"),
                        "versionId": version.version_id,
                        "sequencer": sequencer,
                    },
                },
                "blogpub": {"force": True, "rebuild_id": rebuild_id},
            }
        ]
    }


def send_messages(sqs: SQSClient, queue_url: str, bodies: Sequence[str]) -> int:
    """Send ``bodies`` ten per call; entries SQS refuses are retried once, then raised."""
    for start in range(0, len(bodies), SQS_BATCH):
        batch = {str(i): body for i, body in enumerate(bodies[start : start + SQS_BATCH])}
        for _ in range(2):
            response = sqs.send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": i, "MessageBody": body} for i, body in batch.items()],
            )
            batch = {f["Id"]: batch[f["Id"]] for f in response.get("Failed", [])}
            if not batch:
                break
        if batch:
            raise TransientError(f"SQS refused {len(batch)} rebuild message(s) twice")
    return len(bodies)


def start_rebuild(sqs: SQSClient, queue_url: str, rebuild_id: str) -> dict[str, Any]:
    if not queue_url:
        raise TransientError("REBUILD_QUEUE_URL is not set: the template wires it to RebuildQueue")
    sent = send_messages(sqs, queue_url, [c.body() for c in first_commands(rebuild_id)])
    return {"rebuild_id": rebuild_id, "messages": sent}


def force_plan(
    current: SourceVersion, record: PostRecord | None, head_version: str | None
) -> tuple[SourceVersion, str] | None:
    """Which version to re-render and under which stored sequencer; None when nothing shows.

    ``head_version`` is the key's current version read after the table, asked for only
    when listing and table disagree: the table may lag (an event in flight or lost) or
    lead (an upload after the listing), and re-rendering an older version would regress.
    """
    sequencer = record.sequencer if record is not None else ""
    if current.is_delete_marker:
        if record is None or record.status in ("deleted", "absent"):
            return None
        return current, sequencer
    if record is None or record.last_version_id == current.version_id:
        return current, sequencer
    if head_version is None or head_version == record.last_version_id:
        return None  # the table is ahead of the listing: that newer render used these settings
    return replace(current, version_id=head_version), sequencer


ListingPart = MonthCount | None  # one month of a listing; None: its registry item


def listing_parts(record: ListRecord) -> list[ListingPart]:
    """What a rebuild touches of one listing: its registry item, then each month's count."""
    return [None, *record.months]


@dataclass
class Rebuilder:
    """Runs one rebuild command inside RenderPostFunction."""

    s3: S3Client
    sqs: SQSClient
    table: PostTable
    deployment: Deployment

    def run(self, command: RebuildCommand) -> dict[str, Any]:
        if command.step == "list-posts":
            return self.list_posts(command)
        return self.index_pages(command)

    def list_posts(self, command: RebuildCommand) -> dict[str, Any]:
        request: dict[str, Any] = {
            "Bucket": self.deployment.source_bucket,
            "Prefix": "",  # the whole source/ folder: posts, pages and assets
            "MaxKeys": LIST_PAGE_KEYS,
        }
        if command.key_marker is not None:
            request["KeyMarker"] = command.key_marker
            request["VersionIdMarker"] = command.version_marker or ""
        page = self.s3.list_object_versions(**request)
        current = [
            v
            for v in versions_in_listing(page)
            if v.is_latest and _may_publish(v.key, self.deployment)
        ]
        bodies = [
            json.dumps(event, ensure_ascii=False) for event in self._forced_events(current, command)
        ]
        if page.get("IsTruncated"):
            following = RebuildCommand(
                "list-posts",
                command.rebuild_id,
                key_marker=page.get("NextKeyMarker"),
                version_marker=page.get("NextVersionIdMarker"),
            )
            bodies.append(following.body())
        sent = send_messages(self.sqs, self.deployment.rebuild_queue_url, bodies)
        return {"step": "list-posts", "posts": len(current), "messages": sent}

    def _forced_events(
        self, current: Sequence[SourceVersion], command: RebuildCommand
    ) -> Iterator[dict[str, Any]]:
        records = self.table.get_posts([v.key for v in current])
        for version in current:
            record = records.get(version.key)
            in_doubt = (
                record is not None
                and not version.is_delete_marker
                and record.last_version_id != version.version_id
            )
            plan = force_plan(
                version, record, self._head_version(version.key) if in_doubt else None
            )
            if plan is not None:
                target, sequencer = plan
                yield forced_event(
                    self.deployment.source_bucket, target, sequencer, command.rebuild_id
                )

    def rerender_posts(self, source_keys: Sequence[str], rebuild_id: str) -> int:
        """Queue a forced re-render of each published post's current version (of a key
        waiting for a URL: its rejected newest one), under the sequencer the table holds (a
        newer upload meanwhile makes it stale, and that newer render read the table afresh);
        how many were queued."""
        records = self.table.get_posts(sorted(set(source_keys)))
        versions = {
            key: version
            for key, record in records.items()
            if (version := _rerendered_version(record)) is not None
        }
        bodies = [
            json.dumps(
                forced_event(
                    self.deployment.source_bucket,
                    SourceVersion(
                        record.source_key,
                        versions[key],
                        datetime.fromisoformat(record.processed_at or "1970-01-01T00:00:00+00:00"),
                        is_latest=True,
                        is_delete_marker=False,
                    ),
                    record.sequencer,
                    rebuild_id,
                ),
                ensure_ascii=False,
            )
            for key, record in records.items()
            if key in versions
        ]
        if bodies and not self.deployment.rebuild_queue_url:
            raise TransientError(
                "REBUILD_QUEUE_URL is not set: the template wires it to RebuildQueue"
            )
        return send_messages(self.sqs, self.deployment.rebuild_queue_url, bodies)

    def _head_version(self, key: str) -> str | None:
        try:
            head = self.s3.head_object(Bucket=self.deployment.source_bucket, Key=key)
        except self.s3.exceptions.ClientError:
            return None  # deleted since the listing: its own event removes the post
        return head.get("VersionId")

    def index_pages(self, command: RebuildCommand) -> dict[str, Any]:
        records, last = self.table.list_records_page(command.kind, command.after, LISTS_PER_QUERY)
        parts, following = chunk_parts(records, command, last)
        # The marker differs per rebuild: an update that changes nothing makes no stream record.
        marker = f"rebuild-{command.rebuild_id}"
        touched = sum(
            self.table.touch_registry(record.ref, marker)
            if part is None
            else self.table.touch_month(record.ref.list_id, part.year, part.month, marker)
            for record, part in parts
        )
        send_messages(
            self.sqs, self.deployment.rebuild_queue_url, [following.body()] if following else []
        )
        return {
            "step": "index-pages",
            "kind": command.kind,
            "lists": len(records),
            "touched": touched,
            "continues": following is not None,
        }


def chunk_parts(
    records: Sequence[ListRecord], command: RebuildCommand, last: str | None
) -> tuple[list[tuple[ListRecord, ListingPart]], RebuildCommand | None]:
    """This chunk's listing parts (at most PARTS_PER_CHUNK) and the command that goes on."""
    parts: list[tuple[ListRecord, ListingPart]] = []
    previous = command.after
    for index, record in enumerate(records):
        start = command.part_index if index == 0 else 0
        own = listing_parts(record)
        room = PARTS_PER_CHUNK - len(parts)
        parts += [(record, part) for part in own[start : start + room]]
        if start + room < len(own):
            return parts, _continuing(command, previous, start + room)
        previous = record.ref.list_id
        if len(parts) >= PARTS_PER_CHUNK and index < len(records) - 1:
            return parts, _continuing(command, previous, 0)
    return parts, (_continuing(command, last, 0) if last is not None else None)


def _continuing(command: RebuildCommand, after: str | None, part_index: int) -> RebuildCommand:
    return RebuildCommand(
        "index-pages", command.rebuild_id, kind=command.kind, after=after, part_index=part_index
    )


def _may_publish(key: str, deployment: Deployment) -> bool:
    """A key the pipeline may publish under some settings: post asset folders included, as
    the render function reads post_asset_folder itself and ignores what it does not use."""
    kind = classify(
        key, deployment.posts_prefix, config_key=deployment.config_key, post_asset_folder=True
    )
    return kind.published


def _rerendered_version(record: PostRecord) -> str | None:
    """The version a forced re-render renders: a URL waiter's rejected newest one, else the
    published one (None: nothing to re-render)."""
    if record.waiting_for:
        return record.last_version_id
    return record.version_id if record.status == "published" else None
