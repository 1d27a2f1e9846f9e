"""The site bucket: the one code path that writes or removes pages.

Every write is skipped when the stored object already has the page's bytes (compared by
the SHA-256 kept in the object's metadata), so callers learn which URLs really changed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from blogpub.config import DEFAULT_INDEX_PAGE_TTL_SECONDS
from blogpub.models import Page, StoredPage, object_key_for
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
# The change counter an index page was rendered from (indexes.py, docs/design.md "Index work").
RENDERED_FROM_METADATA = "rendered-from"

WriteOutcome = Literal["created", "updated", "deleted", "unchanged"]
# S3's answers to a conditional write whose object changed since it was read: 412, a
# concurrent conditional request (409), or the object removed meanwhile (404 on If-Match).
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "404", "412"}


class PageConflictError(Exception):
    """The stored page changed between reading it and writing it (another builder wrote)."""


@dataclass
class SiteBucket:
    s3: S3Client
    bucket: str
    index_ttl_seconds: int = DEFAULT_INDEX_PAGE_TTL_SECONDS
    # Content-hashed theme assets the pages link; written once, before the first page.
    assets: Sequence[Page] = ()
    _assets_checked: bool = field(default=False, init=False, repr=False)
    # Page writes run in several threads (indexes.py): the first checks the assets alone.
    _assets_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def stored_hash(self, url: str) -> str | None:
        """The content hash of the page stored at ``url``, or None when there is none."""
        stored = self.stored_page(url)
        return None if stored is None else stored.content_hash

    def stored_page(self, url: str) -> StoredPage | None:
        """The stored page at ``url`` as a conditional write needs it, or None when absent."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=object_key_for(url))
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        metadata = head.get("Metadata", {})
        rendered_from = metadata.get(RENDERED_FROM_METADATA, "")
        return StoredPage(
            etag=str(head.get("ETag", "")),
            content_hash=metadata.get(HASH_METADATA, ""),
            rendered_from=int(rendered_from) if rendered_from.isdigit() else None,
        )

    def write_if_unchanged(
        self,
        url: str,
        page: Page | None,
        cache: CacheClass,
        *,
        stored: StoredPage | None,
        rendered_from: int,
    ) -> tuple[WriteOutcome, StoredPage | None]:
        """Make the page at ``url`` equal ``page`` (absent when None), recording the change
        counter it was rendered from, only if it is still ``stored`` (S3 conditional writes:
        If-Match its ETag, If-None-Match when absent); with the outcome, what is stored at
        ``url`` afterwards (the ETag S3 answered the write with), so the caller can remember
        it without a HEAD. Raises PageConflictError otherwise."""
        if page is None:
            if stored is None:
                return "unchanged", None
            self._conditional(
                self.s3.delete_object,
                Bucket=self.bucket,
                Key=object_key_for(url),
                IfMatch=stored.etag,
            )
            return "deleted", None
        if (
            stored is not None
            and stored.content_hash == page.content_hash
            and stored.rendered_from == rendered_from
        ):
            return "unchanged", stored
        self.ensure_assets()
        condition = {"IfMatch": stored.etag} if stored is not None else {"IfNoneMatch": "*"}
        response = self._conditional(
            self.s3.put_object, **self._page_write(page, cache, rendered_from), **condition
        )
        written = StoredPage(str(response.get("ETag", "")), page.content_hash, rendered_from)
        if stored is None:
            return "created", written
        # Same bytes, newer counter: rewritten so later batches know the page is current.
        return ("updated" if stored.content_hash != page.content_hash else "unchanged"), written

    def _conditional(self, call: Any, **request: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = call(**request)
        except self.s3.exceptions.ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _CONFLICT_CODES:
                raise PageConflictError(request["Key"]) from error
            raise
        return response

    def sync(
        self, url: str, page: Page | None, cache: CacheClass = "long", *, new: bool = False
    ) -> WriteOutcome:
        """Make the stored page at ``url`` equal ``page`` (or absent when ``page`` is None);
        ``cache`` is its page kind's cache class (pages.py). ``new`` says the page is most
        likely not stored yet (a first publish): it is then written only if absent
        (``If-None-Match: *``), one request instead of a HEAD and a write, and compared as
        usual when an object is there after all."""
        if page is not None:
            self.ensure_assets()
            if new and self._created(page, cache):
                return "created"
        stored = self.stored_hash(url)
        if page is None:
            if stored is None:
                return "unchanged"
            self.s3.delete_object(Bucket=self.bucket, Key=object_key_for(url))
            return "deleted"
        if stored == page.content_hash:
            return "unchanged"
        self.s3.put_object(**self._page_write(page, cache))
        return "created" if stored is None else "updated"

    def _page_write(
        self, page: Page, cache: CacheClass, rendered_from: int | None = None
    ) -> dict[str, Any]:
        """The PutObject request of ``page``, with the change counter it was rendered from
        when it is an index page."""
        metadata = {HASH_METADATA: page.content_hash}
        if rendered_from is not None:
            metadata[RENDERED_FROM_METADATA] = str(rendered_from)
        return {
            "Bucket": self.bucket,
            "Key": page.object_key,
            "Body": page.body,
            "ContentType": page.content_type,
            "CacheControl": cache_control(cache, self.index_ttl_seconds),
            "Metadata": metadata,
        }

    def _created(self, page: Page, cache: CacheClass) -> bool:
        """Write ``page`` where no object is stored yet; False when one is (or another
        conditional write to it is under way), leaving the page to the compared write."""
        try:
            self._conditional(self.s3.put_object, **self._page_write(page, cache), IfNoneMatch="*")
        except PageConflictError:
            return False
        return True

    def ensure_assets(self) -> None:
        """Write any theme asset that is missing: its URL names its bytes, so one present is
        right, and an old one stays for cached pages that still link it."""
        if self._assets_checked:
            return
        with self._assets_lock:
            if self._assets_checked:  # another page's write checked them meanwhile
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
