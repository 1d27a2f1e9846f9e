"""Issue 17: importing a whole blog, beside Hexo building it, in the same run.

blogpub: the posts are uploaded to an empty local stack (``blogpub_local``, the template's
functions and event sources, in this process) the way ``blogpub publish`` does (its default
number of parallel uploads; ``aws s3 sync`` uses 10), and the clock
stops when the stack is idle (every S3 event delivered, every stream record built). Each
BuildIndexesFunction batch is recorded: its records, the pages it wrote or deleted, its
time and payload size. Hexo: ``hexo generate`` of the same posts in a Hexo 7 site made from
the npm registry in a temporary directory (skipped, with the reason, where npm or node is
unavailable).
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from posts import post_key, post_source, write_posts
from probes import REPO

HEXO_CLI = "hexo-cli@4.3.2"  # whose `init` makes a Hexo 7 site
IDLE_TIMEOUT_SECONDS = 3600.0


def hexo_generate(count: int, workdir: Path) -> dict[str, Any]:
    """Seconds for ``hexo generate`` of posts 0..count-1 (and for its `clean` first)."""
    npx = shutil.which("npx")
    if npx is None:
        return {"skipped": "npx is not installed"}
    site = workdir / "hexo-site"
    steps = [
        [npx, "-y", HEXO_CLI, "init", str(site)],
        ["npm", "install", "--no-audit", "--no-fund"],
    ]
    for step in steps:
        done = subprocess.run(  # noqa: PLW1510 - the return code is read
            step, cwd=workdir if step[0] == npx else site, capture_output=True, text=True
        )
        if done.returncode != 0:
            return {"skipped": f"{' '.join(step[:3])} failed: {done.stderr.strip()[-300:]}"}
    posts_dir = site / "source" / "_posts"
    shutil.rmtree(posts_dir, ignore_errors=True)
    posts_dir.mkdir(parents=True)
    write_posts(posts_dir, count)
    versions = subprocess.run(
        ["npx", "hexo", "version"], cwd=site, capture_output=True, text=True, check=False
    ).stdout.splitlines()
    version = next((line for line in versions if line.startswith("hexo:")), "hexo: unknown")
    subprocess.run(["npx", "hexo", "clean"], cwd=site, capture_output=True, check=True)
    children_cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    generate = subprocess.run(
        ["npx", "hexo", "generate"], cwd=site, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    generate_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - children_cpu
    if generate.returncode != 0:
        return {"skipped": f"hexo generate failed: {generate.stderr.strip()[-300:]}"}
    files = sum(1 for path in (site / "public").rglob("*") if path.is_file())
    return {
        "version": version,
        "generate_seconds": round(seconds, 2),
        "generate_cpu_seconds": round(generate_cpu, 1),
        "files": files,
    }


class BatchLog:
    """Wraps BuildIndexesFunction's handler: what each stream batch did."""

    def __init__(self, handler: Callable[[Any, Any], Any]) -> None:
        self.handler = handler
        self.batches: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, event: Any, context: Any) -> Any:
        started = time.perf_counter()
        answer: dict[str, Any] = {}
        try:
            answer = self.handler(event, context)
            return answer
        finally:
            with self._lock:
                self.batches.append(
                    {
                        "records": len(event.get("Records", [])),
                        # the payload's size is the invocation's (blogpub_import), not a
                        # second dump of the event counted in the functions' CPU
                        "request_id": context.aws_request_id,
                        "pages_rendered": answer.get("pages_rendered", 0),
                        "pages_written": len(answer.get("pages_written", [])),
                        "pages_deleted": len(answer.get("pages_deleted", [])),
                        "failed": not answer,
                        "seconds": round(time.perf_counter() - started, 3),
                    }
                )


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def blogpub_import(count: int) -> dict[str, Any]:
    """Seconds from the first upload of posts 0..count-1 until the local stack is idle."""
    import boto3
    from blogpub_cli.upload import DEFAULT_JOBS
    from blogpub_local.lambda_runtime import load_handler
    from blogpub_local.stack import LocalStack, StackOptions

    real = load_handler(
        REPO / "functions" / "build_indexes", "app", "lambda_handler", "bench_build_indexes"
    )
    log = BatchLog(real)
    own_cpu, children_cpu = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    # The stream mapping's batching window as the template deploys it (2 s), not the local
    # stack's short default for tests and edits: the import is a burst, which the window
    # is tuned for (docs/design.md).
    options = StackOptions(
        template_path=REPO / "template.yaml",
        handler_overrides={"BuildIndexesFunction": log},
        stream_window_cap_seconds=None,
    )
    with contextlib.redirect_stdout(io.StringIO()), LocalStack(options) as stack:
        assert stack.info is not None
        s3 = boto3.client(
            "s3",
            endpoint_url=stack.endpoint,
            region_name=stack.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        bodies = [(post_key(index), post_source(index).encode()) for index in range(count)]
        bucket = stack.info.source_bucket
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=DEFAULT_JOBS) as uploads:
            for done in [
                uploads.submit(s3.put_object, Bucket=bucket, Key=k, Body=b) for k, b in bodies
            ]:
                done.result()
        uploaded = time.perf_counter() - started
        idle = stack.wait_until_idle(timeout=IDLE_TIMEOUT_SECONDS, interval=0.2)
        seconds = time.perf_counter() - started
        payloads = {
            result.request_id: result.event_bytes
            for poller in stack.stream_pollers
            for result in poller.results
        }
        for batch in log.batches:
            batch["payload_bytes"] = payloads.get(batch.pop("request_id"), 0)
        pages = sum(
            len(listing.get("Contents", []))
            for listing in s3.get_paginator("list_objects_v2").paginate(
                Bucket=stack.info.site_bucket
            )
        )
    # The moto process is a child of this one, counted once the stack has stopped it.
    cpu = {
        "functions_process": round(cpu_seconds(resource.RUSAGE_SELF) - own_cpu, 1),
        "moto_process": round(cpu_seconds(resource.RUSAGE_CHILDREN) - children_cpu, 1),
    }
    batches = log.batches
    wrote_nothing = [b for b in batches if not b["pages_written"] and not b["pages_deleted"]]
    # The waste issue 17 was about: pages rendered again although they already showed the
    # batch's records. A batch behind a table that is ahead renders nothing (and writes
    # nothing) instead.
    rendered_for_nothing = [b for b in wrote_nothing if b["pages_rendered"]]
    return {
        "posts": count,
        "parallel_uploads": DEFAULT_JOBS,
        "idle": idle,
        "seconds_until_idle": round(seconds, 2),
        "upload_seconds": round(uploaded, 2),
        "cpu_seconds": cpu,
        "site_objects": pages,
        "index_batches": len(batches),
        "index_batches_failed": sum(b["failed"] for b in batches),
        "index_batches_that_wrote_nothing": len(wrote_nothing),
        "index_batches_that_rendered_for_nothing": len(rendered_for_nothing),
        "pages_rendered": sum(b["pages_rendered"] for b in batches),
        "pages_written": sum(b["pages_written"] for b in batches),
        "median_batch_records": statistics.median(b["records"] for b in batches) if batches else 0,
        "median_batch_pages_written": (
            statistics.median(b["pages_written"] for b in batches) if batches else 0
        ),
        "largest_batch_payload_bytes": max((b["payload_bytes"] for b in batches), default=0),
        "median_batch_seconds": (
            statistics.median(b["seconds"] for b in batches) if batches else 0
        ),
        "index_seconds_total": round(sum(b["seconds"] for b in batches), 2),
        "batches": batches,
    }


def run(count: int) -> dict[str, Any]:
    """Both, in the same run; the target is blogpub within 2x Hexo's time."""
    with tempfile.TemporaryDirectory(prefix="bench-hexo-") as workdir:
        hexo = hexo_generate(count, Path(workdir))
    ours = blogpub_import(count)
    out: dict[str, Any] = {"hexo": hexo, "blogpub": ours}
    if "generate_seconds" in hexo:
        out["ratio_to_hexo"] = round(ours["seconds_until_idle"] / hexo["generate_seconds"], 2)
        # Under a shared machine's load the wall ratio swings; CPU seconds hardly do.
        ours_cpu = sum(ours["cpu_seconds"].values())
        out["cpu_ratio_to_hexo"] = round(ours_cpu / max(hexo["generate_cpu_seconds"], 0.1), 2)
    return out


if __name__ == "__main__":
    import sys

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 50), indent=2))
