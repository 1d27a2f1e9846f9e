"""The bill of a publish: requests counted per publish kind, times AWS list prices (issue 15).

Each kind (new post, edit, delete, rollback, asset upload) runs through the real functions'
logic on a seeded site (sites.py) while every AWS call is counted; the counts times the one
price table below give dollars per 1,000 publishes, with the CloudFront free tier (1,000
invalidation paths a month) and with it spent. "Before" is the committed run of the previous
pipeline (bench/results.json, new posts only: 35 invalidation paths each).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

# us-east-1 list prices, USD. Read 2026-12-01 from the pages named; where the stored copy of
# the page could not confirm a figure, "confirmed" says so and the figure is the long-standing
# list price as published by AWS.
PRICES_DATE = "2026-12-01"
PRICES: dict[str, dict[str, Any]] = {
    "cloudfront_invalidation_path": {
        "usd": 0.005,
        "free_per_month": 1000,
        "source": "https://aws.amazon.com/cloudfront/pricing/",
        "confirmed": "yes: 'No additional charge for the first 1,000 paths requested for "
        "invalidation each month. Thereafter, $0.005 per path' (quoted from that page)",
    },
    "s3_put_per_1000": {
        "usd": 0.005,
        "source": "https://aws.amazon.com/s3/pricing/",
        "confirmed": "no: the stored page renders its request table from templates",
    },
    "s3_get_per_1000": {
        "usd": 0.0004,
        "source": "https://aws.amazon.com/s3/pricing/",
        "confirmed": "no: as above (GET, HEAD and all other requests)",
    },
    "dynamodb_write_unit_per_million": {
        "usd": 0.625,
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        "confirmed": "no: the page's key terms were found, not its price cells",
    },
    "dynamodb_read_unit_per_million": {
        "usd": 0.125,
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        "confirmed": "no: as above",
    },
    "lambda_request_per_million": {
        "usd": 0.20,
        "source": "https://aws.amazon.com/lambda/pricing/",
        "confirmed": "no: not found in the stored pages",
    },
    "lambda_arm64_gb_second": {
        "usd": 0.0000133334,
        "source": "https://aws.amazon.com/lambda/pricing/",
        "confirmed": "no: not found in the stored pages",
    },
}
LAMBDA_MEMORY_GB = 1.0  # template.yaml Globals: MemorySize 1024
INVOCATIONS_PER_PUBLISH = 2  # RenderPostFunction, then BuildIndexesFunction
S3_WRITE_CALLS = ("PutObject", "CopyObject", "PostObject", "ListObjectsV2", "ListObjectVersions")
S3_FREE_CALLS = ("DeleteObject",)
PUBLISHES = 1000


@dataclass(frozen=True)
class Requests:
    """What one publish asked of each service."""

    s3_writes: int
    s3_reads: int
    read_units: float
    write_units: float
    invalidation_paths: int
    lambda_seconds: float

    @classmethod
    def from_calls(
        cls,
        calls: dict[str, int],
        read_units: float,
        write_units: float,
        paths: int,
        seconds: float,
    ) -> Requests:
        s3 = {name.split(".", 1)[1]: n for name, n in calls.items() if name.startswith("s3.")}
        writes = sum(n for name, n in s3.items() if name in S3_WRITE_CALLS)
        reads = sum(
            n for name, n in s3.items() if name not in S3_WRITE_CALLS and name not in S3_FREE_CALLS
        )
        return cls(writes, reads, read_units, write_units, paths, seconds)


def dollars(requests: Requests, publishes: int = PUBLISHES, *, free_tier: bool) -> dict[str, float]:
    """Dollars for ``publishes`` of this kind in one month, by service."""
    price = {name: entry["usd"] for name, entry in PRICES.items()}
    paths = requests.invalidation_paths * publishes
    if free_tier:
        paths = max(0, paths - PRICES["cloudfront_invalidation_path"]["free_per_month"])
    by_service = {
        "cloudfront": paths * price["cloudfront_invalidation_path"],
        "s3": publishes
        * (
            requests.s3_writes * price["s3_put_per_1000"] / 1000
            + requests.s3_reads * price["s3_get_per_1000"] / 1000
        ),
        "dynamodb": publishes
        * (
            requests.write_units * price["dynamodb_write_unit_per_million"] / 1e6
            + requests.read_units * price["dynamodb_read_unit_per_million"] / 1e6
        ),
        "lambda": publishes
        * (
            INVOCATIONS_PER_PUBLISH * price["lambda_request_per_million"] / 1e6
            + requests.lambda_seconds * LAMBDA_MEMORY_GB * price["lambda_arm64_gb_second"]
        ),
    }
    by_service["total"] = sum(by_service.values())
    return {name: round(value, 6) for name, value in by_service.items()}


def revalidation_dollars_per_month(pages: int, edge_locations: int, ttl_seconds: int) -> float:
    """The price of freshness by expiry: at worst each listing page is refetched from S3 by
    every edge location once per TTL (a GET, a 304 when unchanged), whatever is published."""
    refetches = pages * edge_locations * (30 * 86400 / max(ttl_seconds, 1))
    return round(refetches * PRICES["s3_get_per_1000"]["usd"] / 1000, 4)


# -- measuring ------------------------------------------------------------------------------
def measure_kinds(site: Any, repetition: int) -> dict[str, dict[str, Any]]:
    """Counts for each publish kind on ``site`` (seeded), leaving it as it was."""
    from posts import post_source
    from sites import newcomer

    key, text = newcomer(100 + repetition)
    out: dict[str, dict[str, Any]] = {}
    out["new_post"] = _counted(site, lambda: site.upload(key, text))
    edited = text.replace("Newcomer", "Newcomer, edited")
    out["edit"] = _counted(site, lambda: site.upload(key, edited))
    # RollbackFunction copies the old version over the current one: the same S3 event and
    # pipeline as an edit back to those bytes, plus the CopyObject counted here.
    out["rollback"] = _counted(site, lambda: site.upload(key, text), extra={"s3.CopyObject": 1})
    out["delete"] = _counted(site, lambda: site.remove(key))
    asset = f"images/bench/photo-{repetition}.png"  # an asset: copied to the site as it is
    out["asset_upload"] = _counted(site, lambda: site.upload(asset, post_source(0)[:64]))
    return out


def _counted(site: Any, event_of: Any, extra: dict[str, int] | None = None) -> dict[str, Any]:
    from capacity import CapacityRecorder
    from sites import RequestLog

    runtime = site.activate()
    log, capacity = RequestLog(), CapacityRecorder()
    clients = (runtime.s3, runtime.dynamodb, runtime.cloudfront)
    event = event_of()  # the author's own upload is not the pipeline's bill
    for client in clients:
        client.meta.events.register("before-call.*.*", log.before)
    runtime.cloudfront.meta.events.register(
        "provide-client-params.cloudfront.CreateInvalidation", log.note_invalidation
    )
    capacity.attach(runtime.dynamodb)
    started = time.perf_counter()
    try:
        site.render(event)
        site.build(site.pending_records())
    finally:
        seconds = time.perf_counter() - started
        for client in clients:
            client.meta.events.unregister("before-call.*.*", log.before)
        runtime.cloudfront.meta.events.unregister(
            "provide-client-params.cloudfront.CreateInvalidation", log.note_invalidation
        )
        capacity.detach(runtime.dynamodb)
    calls = {**log.calls}
    for name, count in (extra or {}).items():
        calls[name] = calls.get(name, 0) + count
    requests = Requests.from_calls(
        calls, capacity.read_units, capacity.write_units, len(log.invalidation_paths), seconds
    )
    return {
        "requests": requests.__dict__,
        "invalidation_paths": sorted(log.invalidation_paths),
        "dollars_per_1000": dollars(requests, free_tier=False),
        "dollars_per_1000_free_tier": dollars(requests, free_tier=True),
    }


def before_new_post(previous: dict[str, Any], size: str) -> dict[str, Any] | None:
    """The previous pipeline's new post at ``size`` from the committed bench/results.json."""
    entry = (previous.get("publish_cost") or {}).get("sites", {}).get(size)
    if not entry:
        return None
    counts = entry["counts"]
    s3_reads = counts["s3_requests"] - counts["s3_puts"] - counts.get("pages_deleted", 0)
    requests = Requests(
        s3_writes=counts["s3_puts"],
        s3_reads=s3_reads,
        read_units=counts["read_units"],
        write_units=counts["write_units"],
        invalidation_paths=counts["invalidation_paths"],
        lambda_seconds=entry["median_wall_seconds"],
    )
    return {
        "requests": requests.__dict__,
        "dollars_per_1000": dollars(requests, free_tier=False),
        "dollars_per_1000_free_tier": dollars(requests, free_tier=True),
    }
