"""CloudFront invalidation: the changed long-lived URLs, coalesced once per batch.

Pages that list posts are never invalidated (they expire; docs/design.md invariant 3). A batch
that would send more paths than a threshold sends wildcard prefixes instead: CloudFront bills
a wildcard path as one path, but it also empties every cached object below that prefix.
"""

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


def coalesce(paths: Iterable[str], threshold: int) -> list[str]:
    """``paths`` unchanged when there are at most ``threshold``; else wildcard prefixes, from
    the deepest shared folders up to "/*", until at most ``threshold`` remain."""
    exact = sorted(set(paths))
    if len(exact) <= max(threshold, 1):
        return exact
    deepest = max(path.rstrip("/").count("/") for path in exact)
    for depth in range(deepest - 1, -1, -1):
        grouped = sorted({_prefix(path, depth) for path in exact})
        if len(grouped) <= max(threshold, 1):
            return grouped
    return ["/*"]


def _prefix(path: str, depth: int) -> str:
    """ "/2024/03/x/" at depth 1 -> "/2024/*"; a path no deeper than ``depth`` is kept."""
    segments = path.strip("/").split("/")
    if len(segments) <= depth:
        return path
    return "/" + "".join(segment + "/" for segment in segments[:depth]) + "*"


def caller_reference(batch_ids: Iterable[str]) -> str:
    """Deterministic: a retried batch reuses its reference, so CloudFront does not repeat it."""
    digest = hashlib.sha256("\n".join(sorted(batch_ids)).encode()).hexdigest()
    return f"blogpub-{digest[:40]}"


@dataclass
class Invalidator:
    cloudfront: CloudFrontClient
    distribution_id: str
    wildcard_threshold: int = MAX_PATHS_PER_INVALIDATION
    max_attempts: int = 8
    sleep: Callable[[float], None] = field(default=time.sleep)

    def invalidate(self, urls: Iterable[str], reference: str) -> dict[str, object] | None:
        """Invalidate ``urls`` under ``reference``; None when there is nothing to do."""
        paths = coalesce(
            invalidation_paths(urls), min(self.wildcard_threshold, MAX_PATHS_PER_INVALIDATION)
        )
        if not paths or not self.distribution_id:
            return None
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
