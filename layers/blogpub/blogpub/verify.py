"""Verify: drift between the source bucket, the table and the site bucket. Changes nothing.

The source's current versions say which posts exist; the table's post records must have
processed exactly those versions; the site must hold every published post's page with the
recorded hash and every index page as a render of the table gives it, and nothing else.
Reads are O(site) (a table scan, a version listing, a HEAD per page): an admin tool, never
the pipeline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from blogpub.config import Deployment
from blogpub.indexes import IndexBuilder
from blogpub.keys import month_of
from blogpub.models import object_key_for
from blogpub.pages import IndexPage, site_pages
from blogpub.rebuild import LIST_KINDS
from blogpub.site import SiteBucket
from blogpub.sources import classify
from blogpub.table import ListRecord, PostRecord, PostTable
from blogpub.versions import SourceVersion, list_versions

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DriftKind = Literal[
    "missing-page",
    "extra-page",
    "stale-page",
    "missing-item",
    "extra-item",
    "stale-item",
    "count-mismatch",
]
HEAD_THREADS = 8
MAX_REPORTED = 1000
ASSETS_PREFIX = "assets/"


@dataclass(frozen=True)
class Drift:
    kind: DriftKind
    detail: str
    key: str | None = None  # the source key it concerns
    url: str | None = None  # the page it concerns


def item_drift(
    current: Mapping[str, SourceVersion], records: Mapping[str, PostRecord]
) -> list[Drift]:
    """Post records that miss, lag or outlive the source's current versions."""
    drift = []
    for key, version in sorted(current.items()):
        record = records.get(key)
        if record is None:
            if not version.is_delete_marker:
                drift.append(Drift("missing-item", "no post record for a source post", key))
        elif record.last_version_id != version.version_id and not _both_gone(version, record):
            drift.append(
                Drift(
                    "stale-item",
                    f"the table processed version {record.last_version_id},"
                    f" the source's current one is {version.version_id}",
                    key,
                )
            )
    for key, record in sorted(records.items()):
        if key not in current and record.status not in ("deleted", "absent"):
            drift.append(Drift("extra-item", f"{record.status} post with no source object", key))
    return drift


def _both_gone(version: SourceVersion, record: PostRecord) -> bool:
    return version.is_delete_marker and record.status in ("deleted", "absent")


def count_drift(records: Iterable[PostRecord], registries: Iterable[ListRecord]) -> list[Drift]:
    """Listings, and months of listings, whose stored count differs from the number of
    published posts in them."""
    # Pages and assets are published records too, but in no listing: not posts.
    published = [r for r in records if r.status == "published" and r.lists]
    actual = Counter(ref.list_id for r in published for ref in r.lists)
    actual["site"] = len(published)
    actual_months = Counter(
        (ref.list_id, month_of(r.sort_key)) for r in published if r.sort_key for ref in r.lists
    )
    registries = list(registries)
    stored = {registry.ref.list_id: registry.count for registry in registries}
    stored_months = {
        (registry.ref.list_id, (m.year, m.month)): m.count
        for registry in registries
        for m in registry.months
    }
    drift = [
        Drift(
            "count-mismatch",
            f"listing {list_id} counts {stored.get(list_id, 0)}, the table has"
            f" {actual.get(list_id, 0)} published posts in it",
        )
        for list_id in sorted(set(actual) | set(stored))
        if stored.get(list_id, 0) != actual.get(list_id, 0)
    ]
    drift += [
        Drift(
            "count-mismatch",
            f"listing {list_id} counts {stored_months.get((list_id, ym), 0)} posts in"
            f" {ym[0]:04d}-{ym[1]:02d}, the table has {actual_months.get((list_id, ym), 0)}",
        )
        for list_id, ym in sorted(set(actual_months) | set(stored_months))
        if stored_months.get((list_id, ym), 0) != actual_months.get((list_id, ym), 0)
    ]
    return drift


@dataclass
class Verifier:
    s3: S3Client
    table: PostTable
    site: SiteBucket
    deployment: Deployment
    index_builder: IndexBuilder

    def report(self) -> dict[str, Any]:
        settings = self.index_builder.settings
        current = {
            v.key: v
            for v in list_versions(self.s3, self.deployment.source_bucket, "")
            if v.is_latest
            and classify(
                v.key,
                self.deployment.posts_prefix,
                config_key=self.deployment.config_key,
                post_asset_folder=settings.post_asset_folder,
            ).published
        }
        records = {record.source_key: record for record in self.table.post_records()}
        registries = [
            r for kind in LIST_KINDS for r in self.table.list_records(kind, with_months=True)
        ]
        stored_keys = self._site_keys()
        drift = item_drift(current, records) + count_drift(records.values(), registries)
        published = [r for r in records.values() if r.status == "published" and r.url]
        drift += self._post_page_drift(published, stored_keys)
        specs = site_pages(
            {registry.ref: [(m.year, m.month) for m in registry.months] for registry in registries},
            self.index_builder.settings.rss2_path,
        )
        drift += self._index_page_drift(specs, stored_keys)
        expected = {object_key_for(r.url or "") for r in published}
        expected |= {object_key_for(spec.url) for spec in specs}
        drift += [
            Drift("extra-page", "no post or listing has this page", url="/" + key)
            for key in sorted(stored_keys - expected)
            if not key.startswith(ASSETS_PREFIX)  # old theme assets stay for cached pages
        ]
        return {
            "clean": not drift,
            "counts": {
                "source_posts": sum(not v.is_delete_marker for v in current.values()),
                "post_records": len(records),
                "site_objects": len(stored_keys),
                "index_pages_checked": len(specs),
                "drift": len(drift),
            },
            "drift": [asdict(d) for d in drift[:MAX_REPORTED]],
            "truncated": len(drift) > MAX_REPORTED,
        }

    def _site_keys(self) -> set[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        return {
            str(item["Key"])
            for page in paginator.paginate(Bucket=self.site.bucket)
            for item in page.get("Contents", [])
        }

    def _stored_hashes(self, urls: Sequence[str]) -> list[str | None]:
        with ThreadPoolExecutor(max_workers=HEAD_THREADS) as pool:
            return list(pool.map(self.site.stored_hash, urls))

    def _post_page_drift(
        self, published: Sequence[PostRecord], stored_keys: set[str]
    ) -> list[Drift]:
        urls = [r.url or "" for r in published if object_key_for(r.url or "") in stored_keys]
        stored = dict(zip(urls, self._stored_hashes(urls), strict=True))
        found = (
            page_drift(r.url or "", "post page", r.page_hash, stored, key=r.source_key)
            for r in published
        )
        return [drift for drift in found if drift is not None]

    def _index_page_drift(self, pages: Sequence[IndexPage], stored_keys: set[str]) -> list[Drift]:
        urls = [page.url for page in pages if object_key_for(page.url) in stored_keys]
        stored = dict(zip(urls, self._stored_hashes(urls), strict=True))
        drift = []
        for page in pages:
            rendered = self.index_builder.render(page)
            expected = rendered.content_hash if rendered is not None else None
            found = page_drift(
                page.url, f"{page.kind} page of {page.ref.list_id}", expected, stored
            )
            if found is not None:
                drift.append(found)
        return drift


def page_drift(
    url: str,
    what: str,
    expected_hash: str | None,
    stored_hashes: Mapping[str, str | None],
    *,
    key: str | None = None,
) -> Drift | None:
    """How the stored page at ``url`` differs from what should be there (None: it does not)."""
    if expected_hash is None:
        if url in stored_hashes:
            return Drift("extra-page", f"{what}: should not exist", key, url)
        return None
    if url not in stored_hashes:
        return Drift("missing-page", f"{what}: missing", key, url)
    if stored_hashes[url] != expected_hash:
        return Drift("stale-page", f"{what}: bytes differ from a fresh render", key, url)
    return None
