"""The site bucket: the one code path that writes or removes pages.

Every write is skipped when the stored object already has the page's bytes (compared by
the SHA-256 kept in the object's metadata), so callers learn which URLs really changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from blogpub.config import DEFAULT_INDEX_PAGE_TTL_SECONDS
from blogpub.models import Page, object_key_for
from blogpub.pages import CacheClass

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Browsers revalidate every time; CloudFront keeps long-lived objects until we invalidate them.
LONG_CACHE_CONTROL = "public, max-age=0, s-maxage=31536000, must-revalidate"
# Content-hashed assets never change under their URL: browsers keep them too.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


def cache_control(cache: CacheClass, index_ttl_seconds: int) -> str:
    """The Cache-Control an object is written with (docs/design.md invariant 3).

    A listing page is fresh in CloudFront for ``index_ttl_seconds``, then served stale for as
    long again while CloudFront refetches it, so no reader waits on S3 and none sees a page
    older than twice the TTL; with a TTL of 0 every request revalidates (a 304 from S3).
    """
    if cache == "long":
        return LONG_CACHE_CONTROL
    if index_ttl_seconds <= 0:
        return "public, max-age=0, s-maxage=0, must-revalidate"
    ttl = index_ttl_seconds
    return f"public, max-age=0, s-maxage={ttl}, stale-while-revalidate={ttl}"


HASH_METADATA = "sha256"

WriteOutcome = Literal["created", "updated", "deleted", "unchanged"]


@dataclass
class SiteBucket:
    s3: S3Client
    bucket: str
    index_ttl_seconds: int = DEFAULT_INDEX_PAGE_TTL_SECONDS
    # Content-hashed theme assets the pages link; written once, before the first page.
    assets: Sequence[Page] = ()
    _assets_checked: bool = field(default=False, init=False, repr=False)

    def stored_hash(self, url: str) -> str | None:
        """The content hash of the page stored at ``url``, or None when there is none."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=object_key_for(url))
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return head.get("Metadata", {}).get(HASH_METADATA, "")

    def sync(self, url: str, page: Page | None, cache: CacheClass = "long") -> WriteOutcome:
        """Make the stored page at ``url`` equal ``page`` (or absent when ``page`` is None);
        ``cache`` is its page kind's cache class (pages.py)."""
        if page is not None:
            self.ensure_assets()
        stored = self.stored_hash(url)
        if page is None:
            if stored is None:
                return "unchanged"
            self.s3.delete_object(Bucket=self.bucket, Key=object_key_for(url))
            return "deleted"
        if stored == page.content_hash:
            return "unchanged"
        self.s3.put_object(
            Bucket=self.bucket,
            Key=page.object_key,
            Body=page.body,
            ContentType=page.content_type,
            CacheControl=cache_control(cache, self.index_ttl_seconds),
            Metadata={HASH_METADATA: page.content_hash},
        )
        return "created" if stored is None else "updated"

    def ensure_assets(self) -> None:
        """Write any theme asset that is missing: its URL names its bytes, so one present is
        right, and an old one stays for cached pages that still link it."""
        if self._assets_checked:
            return
        for asset in self.assets:
            if self.stored_hash(asset.url) is None:
                self.s3.put_object(
                    Bucket=self.bucket,
                    Key=asset.object_key,
                    Body=asset.body,
                    ContentType=asset.content_type,
                    CacheControl=IMMUTABLE_CACHE_CONTROL,
                    Metadata={HASH_METADATA: asset.content_hash},
                )
        self._assets_checked = True
