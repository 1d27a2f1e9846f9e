"""`blogpub publish` as a sync: what to upload, what is unchanged, what to delete.

The bucket is listed once (ListObjectsV2 pages). A file is unchanged when its bytes are the
object's: first by size, then by the listed ETag where it equals the file's MD5, else by the
sha256 every upload keeps in ``x-amz-meta-sha256`` (one HeadObject, only for a same-size
object whose ETag is not the file's MD5). An ETag is the MD5 of the bytes only for a single
PUT stored plainly or with SSE-S3: a multipart ETag ends in ``-<parts>``, and SSE-KMS and
SSE-C ETags are opaque, so a mismatch alone proves nothing and the HeadObject decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from blogpub.config import DEFAULT_CONFIG_KEY as CONFIG_FILE
from blogpub_cli.upload import (
    SHA256_METADATA,
    PostUpload,
    file_digests,
    is_published,
)

PLAIN_MD5_ETAG = re.compile(r"[0-9a-f]{32}")
# HeadObject's ServerSideEncryption values whose ETag is not the MD5 of the bytes.
OPAQUE_ETAG_ENCRYPTION = frozenset({"aws:kms", "aws:kms:dsse"})
DELETE_BATCH = 1000  # DeleteObjects' limit


class BucketReadError(Exception):
    """The bucket could not be listed (missing bucket, no credentials, no network)."""


@dataclass(frozen=True)
class RemoteObject:
    key: str
    size: int
    etag: str  # without quotes


@dataclass
class SyncPlan:
    """What a publish does: ``put`` (new or changed), ``unchanged``, ``delete``, and ``kept``:
    keys whose files are gone but stay because ``--delete`` was not given."""

    put: list[PostUpload] = field(default_factory=list)
    unchanged: list[PostUpload] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    new_keys: set[str] = field(default_factory=set)


def list_bucket(s3: Any, bucket: str, prefixes: Iterable[str]) -> dict[str, RemoteObject]:
    """Every object under each prefix ("" = the whole bucket), by key."""
    objects: dict[str, RemoteObject] = {}
    scopes = sorted(set(prefixes))
    if "" in scopes:
        scopes = [""]
    try:
        for prefix in scopes:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"]
                    objects[key] = RemoteObject(key, item["Size"], item["ETag"].strip('"'))
    except Exception as error:
        raise BucketReadError(f"s3://{bucket}/: {type(error).__name__}: {error}") from error
    return objects


def etag_is_md5(etag: str, encryption: str | None = None) -> bool:
    """Whether an ETag is the MD5 of the object's bytes (see the module docstring)."""
    return bool(PLAIN_MD5_ETAG.fullmatch(etag)) and encryption not in OPAQUE_ETAG_ENCRYPTION


def is_unchanged(s3: Any, bucket: str, upload: PostUpload, remote: RemoteObject) -> bool:
    if upload.size != remote.size:
        return False
    md5, sha256 = file_digests(upload.path)
    if remote.etag == md5:
        return True  # a different object whose opaque ETag equals our MD5 is not a real risk
    from botocore.exceptions import ClientError  # botocore is slow to import: not for --help

    try:
        head = s3.head_object(Bucket=bucket, Key=upload.key)
    except ClientError:
        return False  # gone since the listing, or unreadable: uploading settles it
    stored = (head.get("Metadata") or {}).get(SHA256_METADATA)
    if stored:
        return bool(stored == sha256)
    return False  # no sha256, and an ETag that is either a different MD5 or opaque


def sync_plan(
    s3: Any,
    bucket: str,
    uploads: Sequence[PostUpload],
    remote: dict[str, RemoteObject],
    *,
    prefix: str,
    gone: Iterable[str],
    delete: bool,
    jobs: int = 1,
    asset_folders: bool = False,
) -> SyncPlan:
    """Compare the local files with the listed objects. ``gone`` are the keys whose files no
    longer exist; only those the pipeline publishes, and never the config, are deleted."""
    plan = SyncPlan()

    def unchanged(upload: PostUpload) -> bool:
        existing = remote.get(upload.key)
        return existing is not None and is_unchanged(s3, bucket, upload, existing)

    # Hashing and the odd HeadObject overlap across files, as uploads do.
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        verdicts = list(pool.map(unchanged, uploads))
    for upload, same in zip(uploads, verdicts, strict=True):
        if same:
            plan.unchanged.append(upload)
        else:
            plan.put.append(upload)
            if upload.key not in remote:
                plan.new_keys.add(upload.key)
    local_keys = {upload.key for upload in uploads}
    for key in sorted(set(gone) - local_keys):
        published = is_published(key, prefix, asset_folders=asset_folders)
        if key not in remote or not published or key == CONFIG_FILE:
            continue
        (plan.delete if delete else plan.kept).append(key)
    return plan


def delete_keys(s3: Any, bucket: str, keys: Sequence[str]) -> list[tuple[str, str]]:
    """DeleteObjects in batches (a delete marker each, in a versioned bucket); the failures.
    Not quiet: S3 then names each deleted key, which the local stack turns into events."""
    failures: list[tuple[str, str]] = []
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        try:
            answer = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch]}
            )
        except Exception as error:  # reported per key; the sync goes on
            failures.extend((key, f"{type(error).__name__}: {error}") for key in batch)
            continue
        for failed in answer.get("Errors", []):
            failures.append((failed["Key"], f"{failed.get('Code')}: {failed.get('Message')}"))
    return failures
