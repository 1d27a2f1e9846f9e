"""Rollbacks: restore source versions and let the normal pipeline re-render.

A rollback never writes a page. It copies an old version of a post back on top of its key
(or deletes the key, leaving a delete marker, where the post must disappear); the S3 event
that write produces reaches RenderPostFunction like any upload (docs/design.md, invariant 1).
Planning reads only; ``apply`` is the one place that writes to the source bucket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from blogpub import dates
from blogpub.assets import content_type_for
from blogpub.config import Deployment
from blogpub.errors import (
    FutureTimeError,
    OutsideRetentionError,
    PostError,
    UnknownKeyError,
    UnknownVersionError,
)
from blogpub.settings import Settings
from blogpub.sources import KeyKind, asset_folder_of, classify, is_post_key
from blogpub.table import EventRecord, PostRecord, PostTable
from blogpub.versions import (
    SourceVersion,
    by_key,
    key_history,
    list_versions,
    state_at,
    superseded_at,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Operation = Literal["restore", "remove"]
# Object metadata on a restored version: where it came from and which admin request wrote it.
RESTORED_FROM = "blogpub-restored-from"
ROLLBACK_REQUEST = "blogpub-request-id"
REQUESTED_BY = "blogpub-requested-by"
RESTORED_CONTENT_TYPE = "text/markdown; charset=utf-8"
APPLY_THREADS = 8
# The activity partition is read from a little before the oldest version, for clock skew.
ACTIVITY_MARGIN = timedelta(minutes=5)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SourceChange:
    """One step of a plan: make ``key`` current at ``target`` (None: remove the post)."""

    key: str
    operation: Operation
    current: SourceVersion | None
    target: SourceVersion | None
    urls: tuple[str, ...] = ()  # post page URLs this changes: the current one, the restored one
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "operation": self.operation,
            "from_version": self.current.version_id if self.current else None,
            "to_version": self.target.version_id if self.target else None,
            "urls": list(self.urls),
            "note": self.note,
        }


def needed_operation(
    current: SourceVersion | None, target: SourceVersion | None
) -> Operation | None:
    """What makes the key's current entry match ``target``; None when it already does."""
    if target is None or target.is_delete_marker:
        return None if current is None or current.is_delete_marker else "remove"
    if current is not None and target.same_content(current):
        return None
    return "restore"


@dataclass(frozen=True)
class RequestStamp:
    """Who asked for a rollback; written on every version it restores."""

    request_id: str
    requested_by: str = ""

    def metadata(self, restored_from: str) -> dict[str, str]:
        # User metadata travels in HTTP headers: ASCII only, so names are percent-encoded.
        values = {
            RESTORED_FROM: restored_from,
            ROLLBACK_REQUEST: self.request_id,
            REQUESTED_BY: self.requested_by,
        }
        return {name: quote(value, safe="@:/+=") for name, value in values.items() if value}


@dataclass
class Rollbacks:
    s3: S3Client
    table: PostTable
    deployment: Deployment
    settings: Settings
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def _bucket(self) -> str:
        return self.deployment.source_bucket

    @property
    def _window(self) -> timedelta:
        return timedelta(days=self.deployment.rollback_window_days)

    # -- history ---------------------------------------------------------------------------
    def history(self, key: str) -> dict[str, Any]:
        """A post's versions, newest first, with what the pipeline made of each."""
        versions = self._known_history(key)
        oldest = versions[-1].last_modified - ACTIVITY_MARGIN
        activity: dict[str, EventRecord] = {}
        for seen in self.table.activity_of(key, dates.record_time(oldest)):
            activity[seen.version_id or ""] = seen  # oldest first: last one wins
        record = self.table.get_post(key)
        return {
            "key": key,
            "post": _record_summary(record),
            "versions": [
                self._version_entry(versions, index, activity.get(version.version_id))
                for index, version in enumerate(versions)
            ],
        }

    def _version_entry(
        self, versions: Sequence[SourceVersion], index: int, activity: EventRecord | None
    ) -> dict[str, Any]:
        version = versions[index]
        entry: dict[str, Any] = {
            "version_id": version.version_id,
            "time": iso_z(version.last_modified),
            "steps_back": index,
            "current": version.is_latest,
            "delete_marker": version.is_delete_marker,
            "restorable": self._restorable(versions, version),
            "title": None,
            "status": "deleted" if version.is_delete_marker else "unprocessed",
            "url": None,
            "error": None,
            "published_by": None,
        }
        if activity is not None:
            entry["status"] = activity.outcome or entry["status"]
            entry["url"] = activity.url
            entry["error"] = activity.error
            entry["published_by"] = {
                "s3_request_id": activity.request_id,
                "processed_at": activity.at,
            }
        if not version.is_delete_marker:
            entry.update(self._read_version_facts(version))
        return entry

    def _read_version_facts(self, version: SourceVersion) -> dict[str, Any]:
        from blogpub.reader import read_post

        response = self.s3.get_object(
            Bucket=self._bucket, Key=version.key, VersionId=version.version_id
        )
        raw = response["Body"].read()
        metadata = response.get("Metadata", {})
        facts: dict[str, Any] = {
            "restored_from": metadata.get(RESTORED_FROM),
            "rollback_request_id": metadata.get(ROLLBACK_REQUEST),
            "requested_by": metadata.get(REQUESTED_BY),
        }
        try:
            facts["title"] = read_post(raw, version.key, self.settings, self._prefix).title
        except PostError as error:
            facts["read_error"] = str(error)
        return facts

    @property
    def _prefix(self) -> str:
        return self.deployment.posts_prefix

    def _restorable(self, history: Sequence[SourceVersion], version: SourceVersion) -> bool:
        replaced = superseded_at(history, version)
        return replaced is None or replaced >= self.clock() - self._window

    def _known_history(self, key: str) -> list[SourceVersion]:
        if not is_post_key(key, self._prefix):
            raise UnknownKeyError(
                f"{key!r} is not a post key: posts are *.md or *.markdown files below"
                f" {self._prefix!r}"
            )
        versions = key_history(self.s3, self._bucket, key)
        if not versions:
            raise UnknownKeyError(
                f"{key!r} has no versions in the source bucket {self._bucket};"
                " check the key (it is case-sensitive and includes the posts prefix)"
            )
        return versions

    # -- planning --------------------------------------------------------------------------
    def plan_post(
        self, key: str, *, version_id: str | None = None, steps: int | None = None
    ) -> list[SourceChange]:
        """The change that makes ``version_id`` (or the version ``steps`` back) current again."""
        history = self._known_history(key)
        target = self._target(history, key, version_id, steps)
        replaced = superseded_at(history, target)
        if replaced is not None and replaced < self.clock() - self._window:
            raise OutsideRetentionError(
                f"version {target.version_id} of {key} was replaced on {iso_z(replaced)}, more"
                f" than the {self.deployment.rollback_window_days}-day rollback window ago;"
                " S3 may already have expired it"
            )
        return self._describe([(key, history[0], target), *self._asset_folder_steps(key, replaced)])

    def _asset_folder_steps(
        self, post_key: str, replaced: datetime | None
    ) -> list[tuple[str, SourceVersion, SourceVersion | None]]:
        """The post's asset folder as it was while the restored version was current (at
        its last moment), so the post comes back with the images it showed."""
        if not self.settings.post_asset_folder:
            return []
        at = replaced - timedelta(microseconds=1) if replaced is not None else self.clock()
        folder = asset_folder_of(post_key)
        histories = by_key(
            v
            for v in list_versions(self.s3, self._bucket, folder)
            if self._kind(v.key) is KeyKind.POST_ASSET
        )
        return [
            (key, history[0], state_at(history, at)) for key, history in sorted(histories.items())
        ]

    def _kind(self, key: str) -> KeyKind:
        return classify(
            key,
            self._prefix,
            config_key=self.deployment.config_key,
            post_asset_folder=self.settings.post_asset_folder,
        )

    @staticmethod
    def _target(
        history: Sequence[SourceVersion], key: str, version_id: str | None, steps: int | None
    ) -> SourceVersion:
        if version_id is not None:
            for version in history:
                if version.version_id == version_id:
                    return version
            known = ", ".join(v.version_id for v in history[:5])
            raise UnknownVersionError(
                f"{key} has no version {version_id!r}; its newest versions are: {known}"
                " (see the history action)"
            )
        assert steps is not None
        if steps >= len(history):
            raise UnknownVersionError(
                f"{key} has {len(history)} version(s): steps={steps} goes past the oldest"
                f" (at most {len(history) - 1})"
            )
        return history[steps]

    def plan_site(self, at: datetime) -> list[SourceChange]:
        """Every post back to its state at ``at``.

        Posts changed since are restored, posts created since removed, posts deleted since
        restored.
        """
        now = self.clock()
        if at > now:
            raise FutureTimeError(f"at={iso_z(at)} is in the future (now is {iso_z(now)})")
        if at < now - self._window:
            raise OutsideRetentionError(
                f"at={iso_z(at)} is older than the {self.deployment.rollback_window_days}-day"
                " rollback window: versions replaced before then may have expired"
            )
        # Posts, pages and assets: the whole source/ folder but _config.yml and ignored keys.
        histories = by_key(
            v for v in list_versions(self.s3, self._bucket, "") if self._kind(v.key).published
        )
        steps = [
            (key, history[0], state_at(history, at)) for key, history in sorted(histories.items())
        ]
        return self._describe(steps)

    def _describe(
        self, steps: Iterable[tuple[str, SourceVersion, SourceVersion | None]]
    ) -> list[SourceChange]:
        needed = [
            (key, current, target, operation)
            for key, current, target in steps
            if (operation := needed_operation(current, target)) is not None
        ]
        records = self.table.get_posts([key for key, *_ in needed])
        changes = []
        for key, current, target, operation in needed:
            urls: list[str] = []
            record = records.get(key)
            if record is not None and record.status == "published" and record.url:
                urls.append(record.url)
            note = None
            if operation == "restore" and target is not None:
                url, note = self._url_of(target)
                if url and url not in urls:
                    urls.append(url)
            changes.append(SourceChange(key, operation, current, target, tuple(urls), note))
        return changes

    def _url_of(self, version: SourceVersion) -> tuple[str | None, str | None]:
        """The URL a restored version will be published at, or why it will not be."""
        from blogpub import urls
        from blogpub.reader import read_post

        if self._kind(version.key) is not KeyKind.POST:
            return None, None  # a page or asset: its URL is its path (or its post's)
        raw = self.s3.get_object(
            Bucket=self._bucket, Key=version.key, VersionId=version.version_id
        )["Body"].read()
        try:
            post = read_post(raw, version.key, self.settings, self._prefix)
        except PostError as error:
            return None, f"the restored version will be rejected again: {error}"
        if not post.published:
            return None, "the restored version has published: false"
        return urls.post_url(post, self.settings), None

    # -- applying --------------------------------------------------------------------------
    def apply(self, changes: Sequence[SourceChange], stamp: RequestStamp) -> list[dict[str, Any]]:
        """Write the plan to the source bucket: removals first, so restored URLs are free."""
        ordered = sorted(changes, key=lambda change: change.operation != "remove")
        with ThreadPoolExecutor(max_workers=APPLY_THREADS) as pool:
            new_versions = list(pool.map(lambda change: self._write(change, stamp), ordered))
        return [
            change.as_dict() | {"new_version": version}
            for change, version in zip(ordered, new_versions, strict=True)
        ]

    def _write(self, change: SourceChange, stamp: RequestStamp) -> str | None:
        if change.operation == "remove":
            removed = self.s3.delete_object(Bucket=self._bucket, Key=change.key)
            return removed.get("VersionId")
        assert change.target is not None
        copied = self.s3.copy_object(
            Bucket=self._bucket,
            Key=change.key,
            CopySource={
                "Bucket": self._bucket,
                "Key": change.key,
                "VersionId": change.target.version_id,
            },
            MetadataDirective="REPLACE",
            Metadata=stamp.metadata(change.target.version_id),
            ContentType=(
                RESTORED_CONTENT_TYPE
                if self._kind(change.key) is KeyKind.POST
                else content_type_for(change.key)
            ),
        )
        return copied.get("VersionId")


def _record_summary(record: PostRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "status": record.status,
        "url": record.url if record.status == "published" else None,
        "version_id": record.version_id,
        "last_version_id": record.last_version_id,
        "last_outcome": record.last_outcome,
        "last_error": record.last_error,
    }
