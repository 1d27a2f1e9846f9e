"""Measurements that need a fresh process: import times and the memory of one render.

``python bench/probes.py render-memory <post.md>`` prints JSON: the peak RSS of a process
that imported the package and then read and rendered one post, the RSS before the render,
and the peak of Python allocations during the render (tracemalloc).
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import tracemalloc
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYER = REPO / "layers" / "blogpub"
HANDLERS = {
    "RenderPostFunction": REPO / "functions" / "render_post",
    "BuildIndexesFunction": REPO / "functions" / "build_indexes",
}
# What Lambda sets for the functions (template.yaml Globals): tracing on, as deployed.
LAMBDA_ENVIRONMENT = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "blogpub",
    "POWERTOOLS_METRICS_NAMESPACE": "blogpub",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
# Parts of a handler's import, each timed alone: what a lazy import would save at most.
PARTS = ("aws_xray_sdk.core", "aws_lambda_powertools", "jinja2", "yaml", "blogpub.service")
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


def _importtime(module: str, env: dict[str, str]) -> str:
    """``python -X importtime -c "import module"`` in a fresh interpreter: its report."""
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    ).stderr


def import_microseconds(module: str, path: list[Path], extra_env: dict[str, str]) -> int:
    """Cumulative ``-X importtime`` of ``module`` imported first thing in a fresh interpreter."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "AWS_", "PYTHON"))
    }
    env |= LAMBDA_ENVIRONMENT | extra_env
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in path)
    stderr = _importtime(module, env)
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        # One space before the name marks a top-level import.
        if match and match.group(4) == module and len(match.group(3)) == 1:
            return int(match.group(2))
    raise RuntimeError(f"no top-level import of {module} in:\n{stderr[-2000:]}")


def heaviest_imports(module: str, path: list[Path], count: int = 8) -> list[dict[str, object]]:
    """The modules with the largest cumulative import time under ``module`` (one run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    env |= LAMBDA_ENVIRONMENT | {"PYTHONPATH": os.pathsep.join(str(p) for p in path)}
    stderr = _importtime(module, env)
    rows = []
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            depth = (len(match.group(3)) - 1) // 2
            rows.append(
                {
                    "module": match.group(4),
                    "depth": depth,
                    "self_ms": int(match.group(1)) / 1000,
                    "cumulative_ms": int(match.group(2)) / 1000,
                }
            )
    top = [row for row in rows if 1 <= int(str(row["depth"])) <= 2]
    return sorted(top, key=lambda row: -float(str(row["cumulative_ms"])))[:count]


def cold_start(repetitions: int) -> dict[str, object]:
    """Handler import times against ``import boto3``, alternating, medians in milliseconds."""
    samples: dict[str, list[int]] = {"boto3": []}
    samples |= {name: [] for name in HANDLERS} | {module: [] for module in PARTS}
    for _ in range(repetitions):
        samples["boto3"].append(import_microseconds("boto3", [], {}))
        for name, folder in HANDLERS.items():
            samples[name].append(import_microseconds("app", [folder, LAYER], {}))
        for module in PARTS:
            samples[module].append(import_microseconds(module, [LAYER], {}))
    medians = {name: statistics.median(values) / 1000 for name, values in samples.items()}
    baseline = medians["boto3"]
    return {
        "repetitions": repetitions,
        "median_ms": medians,
        "samples_ms": {name: [v / 1000 for v in values] for name, values in samples.items()},
        "ratio_to_boto3": {
            name: round(value / baseline, 3) for name, value in medians.items() if name != "boto3"
        },
        "heaviest_imports": {
            name: heaviest_imports("app", [folder, LAYER]) for name, folder in HANDLERS.items()
        },
    }


def peak_rss_bytes() -> int:
    """This process's peak resident set size.

    Linux keeps ``ru_maxrss`` across fork and exec, so a child started from a large parent
    reports the parent's size; ``VmHWM`` belongs to the process's own address space.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def render_memory(path: Path) -> dict[str, object]:
    """Read and render one post in this (fresh) process; RSS and traced peaks in bytes."""
    from blogpub.reader import read_post
    from blogpub.render import Renderer
    from blogpub.settings import Settings

    renderer = Renderer(Settings())
    raw = path.read_bytes()
    # Warm the template cache on a tiny post, so the figure is the post's, not Jinja's.
    warm = b"---\ntitle: warm\ndate: 2022-02-05 11:13:23\n---\nwarm\n"
    renderer.render_post(read_post(warm, "_posts/warm.md", Settings()))
    rss_before = peak_rss_bytes()
    tracemalloc.start()
    rendered = renderer.render_post(read_post(raw, f"_posts/{path.name}", Settings()))
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = peak_rss_bytes()
    return {
        "post": path.name,
        "source_bytes": len(raw),
        "page_bytes": len(rendered.page.body),
        "peak_rss_bytes": rss_after,
        "rss_before_render_bytes": rss_before,
        "render_traced_peak_bytes": traced_peak,
    }


def render_memory_in_subprocess(path: Path) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, __file__, "render-memory", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(completed.stdout)
    return result


def build_memory(event_path: Path) -> dict[str, object]:
    """BuildIndexesFunction's logic on one stream batch, in this fresh process, against the
    AWS endpoint in ``AWS_ENDPOINT_URL``: what Lambda reports as the invocation's memory."""
    from blogpub import service

    event = json.loads(event_path.read_text())
    runtime = service.runtime()
    _ = runtime.s3, runtime.dynamodb, runtime.cloudfront  # made in the init phase on Lambda
    rss_before = peak_rss_bytes()
    report = service.build_indexes_event(event)
    return {
        "peak_rss_bytes": peak_rss_bytes(),
        "peak_rss_before_build_bytes": rss_before,
        "records": len(event["Records"]),
        "pages_written": len(report["pages_written"]),
    }


def build_memory_in_subprocess(event: dict[str, object], endpoint: str) -> dict[str, object]:
    """Run ``build_memory`` in a fresh interpreter (the parent holds the sites in moto, which
    answers the child at ``endpoint``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(event, file, default=_lambda_json)
    try:
        completed = subprocess.run(
            [sys.executable, __file__, "build-memory", file.name],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "AWS_ENDPOINT_URL": endpoint},
        )
    finally:
        os.unlink(file.name)
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _lambda_json(value: object) -> object:
    """Stream records as Lambda delivers them: times as epoch seconds, binary as base64."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON: {type(value).__name__}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "render-memory":
        print(json.dumps(render_memory(Path(sys.argv[2]))))
    elif len(sys.argv) == 3 and sys.argv[1] == "build-memory":
        print(json.dumps(build_memory(Path(sys.argv[2]))))
    else:
        raise SystemExit("usage: probes.py render-memory <post.md> | build-memory <event.json>")
