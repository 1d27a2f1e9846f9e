"""The source bucket's version history: the truth that rollbacks, rebuilds and verify read.

S3 lists object versions and delete markers newest first per key, but botocore hands them
over as two lists; they are merged back here by time. ``LastModified`` has one-second
resolution, so within one second a key's versions keep S3's order and a delete marker
follows the versions of that second (S3's ``IsLatest`` still names the current entry).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class SourceVersion:
    """One version of a source key: an object, or a delete marker."""

    key: str
    version_id: str
    last_modified: datetime  # aware, UTC, whole seconds
    is_latest: bool
    is_delete_marker: bool
    etag: str = ""  # without quotes; "" for delete markers

    def same_content(self, other: SourceVersion) -> bool:
        """Both are objects with equal bytes (single-part ETags are content MD5s)."""
        return not (self.is_delete_marker or other.is_delete_marker) and self.etag == other.etag


def versions_in_listing(response: Mapping[str, Any]) -> list[SourceVersion]:
    """The versions and delete markers of one ListObjectVersions page, in no particular order."""

    def version(item: Mapping[str, Any], *, is_delete_marker: bool) -> SourceVersion:
        return SourceVersion(
            key=str(item["Key"]),
            version_id=str(item["VersionId"]),
            last_modified=item["LastModified"],
            is_latest=bool(item.get("IsLatest")),
            is_delete_marker=is_delete_marker,
            etag="" if is_delete_marker else str(item.get("ETag", "")).strip('"'),
        )

    return [version(item, is_delete_marker=False) for item in response.get("Versions", [])] + [
        version(item, is_delete_marker=True) for item in response.get("DeleteMarkers", [])
    ]


def newest_first(versions: Iterable[SourceVersion]) -> list[SourceVersion]:
    """One key's versions newest first: the latest, then by time (S3's order within a second)."""
    ordered = list(versions)  # S3's order within each kind is already newest first
    rank = {id(version): index for index, version in enumerate(ordered)}
    return sorted(
        ordered,
        key=lambda v: (
            not v.is_latest,
            -v.last_modified.timestamp(),
            v.is_delete_marker,
            rank[id(v)],
        ),
    )


def by_key(versions: Iterable[SourceVersion]) -> dict[str, list[SourceVersion]]:
    """Versions grouped per key, each group newest first."""
    groups: dict[str, list[SourceVersion]] = {}
    for version in versions:
        groups.setdefault(version.key, []).append(version)
    return {key: newest_first(group) for key, group in groups.items()}


def list_versions(s3: S3Client, bucket: str, prefix: str) -> Iterator[SourceVersion]:
    """Every version and delete marker below ``prefix`` (all pages)."""
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        yield from versions_in_listing(page)


def key_history(s3: S3Client, bucket: str, key: str) -> list[SourceVersion]:
    """One key's versions, newest first (a prefix listing keeps only the exact key)."""
    return newest_first(v for v in list_versions(s3, bucket, key) if v.key == key)


def state_at(history: Sequence[SourceVersion], moment: datetime) -> SourceVersion | None:
    """The entry that was current at ``moment`` (None: the key did not exist yet)."""
    for version in history:
        if version.last_modified <= moment:
            return version
    return None


def superseded_at(history: Sequence[SourceVersion], version: SourceVersion) -> datetime | None:
    """When ``version`` stopped being current (None while it is current)."""
    index = history.index(version)
    return history[index - 1].last_modified if index > 0 else None
