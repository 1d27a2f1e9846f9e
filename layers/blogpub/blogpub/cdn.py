"""CloudFront invalidation: exactly the changed URLs, once per batch."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from blogpub.urls import encode_path

if TYPE_CHECKING:
    from mypy_boto3_cloudfront import CloudFrontClient

MAX_PATHS_PER_INVALIDATION = 3000  # CloudFront's limit on one invalidation's paths


def invalidation_paths(urls: Iterable[str]) -> list[str]:
    """Percent-encoded paths for changed URLs; directory pages also by their index object.

    The viewer-request function rewrites "/a/" to "/a/index.html" before the cache lookup, and
    AWS recommends invalidating both the viewer URI and the rewritten one.
    """
    paths: set[str] = set()
    for url in urls:
        encoded = encode_path(url)
        paths.add(encoded)
        if encoded.endswith("/"):
            paths.add(encoded + "index.html")
    return sorted(paths)


def caller_reference(batch_ids: Iterable[str]) -> str:
    """Deterministic: a retried batch reuses its reference, so CloudFront does not repeat it."""
    digest = hashlib.sha256("\n".join(sorted(batch_ids)).encode()).hexdigest()
    return f"blogpub-{digest[:40]}"


@dataclass
class Invalidator:
    cloudfront: CloudFrontClient
    distribution_id: str
    max_attempts: int = 8
    sleep: Callable[[float], None] = field(default=time.sleep)

    def invalidate(self, urls: Iterable[str], reference: str) -> dict[str, object] | None:
        """Invalidate ``urls`` under ``reference``; None when there is nothing to do."""
        paths = invalidation_paths(urls)
        if not paths or not self.distribution_id:
            return None
        if len(paths) > MAX_PATHS_PER_INVALIDATION:
            paths = ["/*"]  # a full rebuild: one wildcard is cheaper than thousands of paths
        for attempt in range(self.max_attempts):
            try:
                response = self.cloudfront.create_invalidation(
                    DistributionId=self.distribution_id,
                    InvalidationBatch={
                        "Paths": {"Quantity": len(paths), "Items": paths},
                        "CallerReference": reference,
                    },
                )
                return {
                    "id": response["Invalidation"]["Id"],
                    "caller_reference": reference,
                    "paths": paths,
                }
            except self.cloudfront.exceptions.TooManyInvalidationsInProgress:
                if attempt == self.max_attempts - 1:
                    raise
                self.sleep(min(2.0**attempt * 0.5, 20.0))
        return None  # unreachable: the loop returns or raises
