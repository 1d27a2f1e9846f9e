"""`blogpub local up | wait | run`: the stack as a service, an idle probe, a one-shot build."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from blogpub.table import PostRecord, PostTable
from blogpub_cli.upload import skipped_summary, upload_all, upload_plan
from blogpub_local.stack import LocalStack, StackOptions, StackStartError

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_REJECTED = 3
POST_STATUSES = ("published", "rejected", "unpublished")


def serve_until_signalled(options: StackOptions, ready_out: TextIO) -> int:
    """Run the stack until SIGINT/SIGTERM; print the ready line to ``ready_out``."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack = LocalStack(options)
        info = stack.start()
    except StackStartError as error:
        print(f"blogpub local up: {error}", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    try:
        ready_out.write(info.ready_line() + "\n")
        ready_out.flush()
        stop.wait()
    finally:
        stack.stop()
    return EXIT_OK


@dataclass
class PostReport:
    source_key: str
    status: str  # one of POST_STATUSES
    url: str | None
    error: str | None
    warnings: tuple[str, ...] = ()  # tags and formulas shown as text, "line N: ..."


@dataclass
class RunReport:
    posts: list[PostReport] = field(default_factory=list)
    pages_written: list[str] = field(default_factory=list)
    pages_deleted: list[str] = field(default_factory=list)
    invalidations: list[dict[str, Any]] = field(default_factory=list)
    function_errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files the pipeline would ignore
    idle: bool = True

    def count(self, status: str) -> int:
        return sum(1 for post in self.posts if post.status == status)

    @property
    def exit_code(self) -> int:
        if self.function_errors or not self.idle:
            return EXIT_INTERNAL_ERROR
        # `published: false` is the author's choice, not a failure
        if any(post.status == "rejected" for post in self.posts):
            return EXIT_REJECTED
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "posts": [post.__dict__ for post in self.posts],
            "counts": {status: self.count(status) for status in POST_STATUSES},
            "pages_written": self.pages_written,
            "pages_deleted": self.pages_deleted,
            "invalidations": self.invalidations,
            "function_errors": self.function_errors,
            "skipped": self.skipped,
            "idle": self.idle,
        }

    def summary(self, site_dir: Path) -> str:
        lines = [
            f"{len(self.posts)} posts: {self.count('published')} published, "
            f"{self.count('rejected')} rejected, {self.count('unpublished')} unpublished; "
            f"{len(self.pages_written)} pages written, "
            f"{len(self.invalidations)} invalidations; site in {site_dir}/"
        ]
        lines += [
            f"  rejected {p.source_key}: {p.error}" for p in self.posts if p.status == "rejected"
        ]
        lines += [
            f"  warning {p.source_key}: {warning}" for p in self.posts for warning in p.warnings
        ]
        lines += [
            f"  function error: {e['function']}: {e['errorMessage']}" for e in self.function_errors
        ]
        if self.skipped:
            lines.append(f"  {skipped_summary(self.skipped)}")
        if not self.idle:
            lines.append("  the stack did not become idle before the timeout")
        return "\n".join(lines)


def post_report(source_key: str, record: PostRecord | None) -> PostReport:
    """A post's outcome from its record in the table."""
    if record is None:
        return PostReport(
            source_key, "rejected", None, "no post record: the upload was not processed"
        )
    outcome = str(record.last_outcome or record.status or "")
    status = outcome if outcome in POST_STATUSES else "rejected"
    return PostReport(
        source_key, status, record.url or None, record.last_error or None, record.warnings
    )


def unique_paths(results: Iterable[Mapping[str, Any]], name: str) -> list[str]:
    paths: set[str] = set()
    for result in results:
        for entry in result.get("results") or [result]:
            paths.update(str(path) for path in entry.get(name) or [])
    return sorted(paths)


def _download_site(s3: Any, bucket: str, site_dir: Path) -> None:
    site_dir.mkdir(parents=True, exist_ok=True)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for listed in page.get("Contents", []):
            target = site_dir / listed["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read())


def _invalidations(cloudfront: Any, distribution_id: str) -> list[dict[str, Any]]:
    if not distribution_id:
        return []
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)
    invalidations = []
    for summary in (listed.get("InvalidationList") or {}).get("Items") or []:
        detail = cloudfront.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])
        batch = detail["Invalidation"]["InvalidationBatch"]
        invalidations.append(
            {
                "id": summary["Id"],
                "caller_reference": batch["CallerReference"],
                "paths": list(batch["Paths"].get("Items") or []),
            }
        )
    return invalidations


def build_site(
    stack: LocalStack, posts_dir: Path, site_dir: Path, posts_prefix: str, timeout: float
) -> RunReport:
    """Upload every post through S3, wait for the pipeline, copy the site out, and report."""
    assert stack.info is not None
    s3 = stack.clients["s3"]
    plan = upload_plan([posts_dir], posts_prefix)
    upload_all(s3, stack.info.source_bucket, plan.uploads)
    report = RunReport(
        idle=stack.wait_until_idle(timeout), skipped=[str(path) for path in plan.skipped]
    )
    table = PostTable(stack.clients["dynamodb"], stack.info.table)
    for upload in plan.uploads:
        if upload.is_post:
            report.posts.append(post_report(upload.key, table.get_post(upload.key)))
    results = [result for _, result in stack.invoker.results]
    for poller in stack.stream_pollers:
        results.extend(poller.results)
    payloads = [r.payload for r in results if not r.failed and isinstance(r.payload, dict)]
    report.pages_written = unique_paths(payloads, "pages_written")
    report.pages_deleted = unique_paths(payloads, "pages_deleted")
    failed = [(logical_id, r) for logical_id, r in stack.invoker.results if r.failed]
    report.function_errors = [
        {"function": logical_id, **result.payload} for logical_id, result in failed
    ] + [
        {"function": poller.function.spec.logical_id} | batch
        for poller in stack.stream_pollers
        for batch in poller.abandoned_batches
    ]
    report.invalidations = _invalidations(stack.clients["cloudfront"], stack.info.distribution_id)
    _download_site(s3, stack.info.site_bucket, site_dir)
    return report


def run_once(
    options: StackOptions,
    posts_dir: Path,
    site_dir: Path,
    *,
    report_path: Path | None,
    timeout: float,
    out: TextIO,
) -> int:
    try:
        with LocalStack(options) as stack:
            posts_prefix = stack.info.posts_prefix if stack.info else "_posts/"
            report = build_site(stack, posts_dir, site_dir, posts_prefix, timeout)
    except StackStartError as error:
        print(f"blogpub local run: {error}", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    out.write(report.summary(site_dir) + "\n")
    return report.exit_code
