"""The site bucket: the one code path that writes or removes pages.

Every write is skipped when the stored object already has the page's bytes (compared by
the SHA-256 kept in the object's metadata), so callers learn which URLs really changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from blogpub.models import Page, object_key_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Browsers revalidate every time; CloudFront keeps pages until we invalidate them.
CACHE_CONTROL = "public, max-age=0, s-maxage=31536000, must-revalidate"
HASH_METADATA = "sha256"

WriteOutcome = Literal["created", "updated", "deleted", "unchanged"]


@dataclass
class SiteBucket:
    s3: S3Client
    bucket: str

    def stored_hash(self, url: str) -> str | None:
        """The content hash of the page stored at ``url``, or None when there is none."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=object_key_for(url))
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return head.get("Metadata", {}).get(HASH_METADATA, "")

    def sync(self, url: str, page: Page | None) -> WriteOutcome:
        """Make the stored page at ``url`` equal ``page`` (or absent when ``page`` is None)."""
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
            CacheControl=CACHE_CONTROL,
            Metadata={HASH_METADATA: page.content_hash},
        )
        return "created" if stored is None else "updated"
