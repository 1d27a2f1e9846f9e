"""Measurements that need a fresh process: import times, first events and memory.

``python bench/probes.py render-memory <post.md>`` prints JSON: the peak RSS of a process
that imported the package and then read and rendered one post, the RSS before the render,
and the peak of Python allocations during the render (tracemalloc).

``first_event`` times a cold start as Lambda pays it: the handler's import, then its first
event against a moto server, each in a fresh interpreter, beside ``import boto3`` and one
S3 GetObject in another.
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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LAYER = REPO / "layers" / "blogpub"
HANDLERS = {
    "RenderPostFunction": REPO / "functions" / "render_post",
    "BuildIndexesFunction": REPO / "functions" / "build_indexes",
}
# What Lambda sets for the functions at import (template.yaml Globals); no Tracer is made then.
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


# The fresh interpreters of ``first_event``: only json, sys and time are loaded before the
# clock starts, in both programs; each writes its figures to a file (Powertools owns stdout).
_HANDLER_PROGRAM = """\
import json, sys, time
event = json.loads(open(sys.argv[1], encoding="utf-8").read())
started, started_cpu = time.perf_counter(), time.process_time()
import app
imported, imported_cpu = time.perf_counter(), time.process_time()
class Context:
    function_name = sys.argv[3]
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + sys.argv[3]
    aws_request_id = "00000000-0000-4000-8000-000000000001"
    def get_remaining_time_in_millis(self): return 30000
import builtins
plain_import, depth, imports = builtins.__import__, [0], []
def timed_import(name, *args, **kwargs):
    depth[0] += 1
    begun, begun_cpu = time.perf_counter(), time.process_time()
    try:
        return plain_import(name, *args, **kwargs)
    finally:
        depth[0] -= 1
        if depth[0] == 0:
            imports.append((name, 1000 * (time.perf_counter() - begun),
                            1000 * (time.process_time() - begun_cpu)))
builtins.__import__ = timed_import
answer = app.lambda_handler(event, Context())
handled, handled_cpu = time.perf_counter(), time.process_time()
figures = {"import_ms": 1000 * (imported - started), "first_event_ms": 1000 * (handled - imported)}
figures["import_cpu_ms"] = 1000 * (imported_cpu - started_cpu)
figures["first_event_cpu_ms"] = 1000 * (handled_cpu - imported_cpu)
figures["first_event_imports_ms"] = sum(row[1] for row in imports)
figures["first_event_imports_cpu_ms"] = sum(row[2] for row in imports)
figures["heaviest_first_event_imports"] = sorted(imports, key=lambda row: -row[1])[:8]
figures["answer"] = answer
figures["modules"] = sorted(sys.modules)
open(sys.argv[2], "w", encoding="utf-8").write(json.dumps(figures, default=str))
"""
_GET_OBJECT_PROGRAM = """\
import json, sys, time
started, started_cpu = time.perf_counter(), time.process_time()
import boto3
imported, imported_cpu = time.perf_counter(), time.process_time()
body = boto3.client("s3").get_object(Bucket=sys.argv[3], Key=sys.argv[4])["Body"].read()
handled, handled_cpu = time.perf_counter(), time.process_time()
figures = {"import_ms": 1000 * (imported - started), "first_event_ms": 1000 * (handled - imported)}
figures["import_cpu_ms"] = 1000 * (imported_cpu - started_cpu)
figures["first_event_cpu_ms"] = 1000 * (handled_cpu - imported_cpu)
figures["answer"] = {"bytes": len(body)}
open(sys.argv[2], "w", encoding="utf-8").write(json.dumps(figures))
"""
SEED_POST = REPO / "examples" / "posts" / "000_d87f2d6de0cb2939.md"
SEED_KEY = "_posts/000_d87f2d6de0cb2939.md"
# Imported by the first events; ``first_event`` reports which of them each one loaded.
WATCHED_MODULES = (
    "boto3",
    "aws_xray_sdk",
    "jinja2",
    "yaml",
    "cmarkgfm",
    "nh3",
    "jmespath",
    "dateutil",
    "aws_lambda_powertools.utilities.batch",
)


SAMPLED_TRACE_HEADER = "Root=1-6789abcd-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


@dataclass(frozen=True)
class Variant:
    """The code a cold start runs (a checkout's functions and layer) and its tracing."""

    label: str
    root: Path = REPO
    tracing: str | None = None  # "Active" or "PassThrough"; None: as the template deploys


def deployed_environment(
    root: Path, logical_id: str, resource_names: dict[str, str], tracing: str | None
) -> dict[str, str]:
    """The function's variables as ``root``'s template.yaml deploys it (parameter defaults),
    with the bench's resources, and what Lambda itself sets (``LAMBDA_TASK_ROOT`` is what
    makes Powertools trace; ``_X_AMZN_TRACE_ID`` is a sampled trace)."""
    from blogpub_local.cfn_yaml import load_template
    from blogpub_local.resources import placeholder_names
    from blogpub_local.template import function_spec, resolver_for, serverless_functions

    template = load_template(root / "template.yaml")
    overrides = {"XRayTracing": tracing} if tracing else {}
    resolver = resolver_for(template, "us-east-1", "bench", overrides)
    placeholder_names(template, resolver)
    properties = serverless_functions(template)[logical_id]
    spec = function_spec(logical_id, properties, resolver, root)
    environment = {
        **spec.environment,
        **resource_names,
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "_X_AMZN_TRACE_ID": SAMPLED_TRACE_HEADER,
        "BENCH_TRACING": str(resolver.resolve(properties.get("Tracing", "PassThrough"))),
        "BENCH_CODE_DIR": str(spec.code_dir),
    }
    if tracing is not None and "POWERTOOLS_TRACE_DISABLED" not in spec.environment:
        # A template from before the XRayTracing parameter: its Tracing was Active.
        environment["BENCH_TRACING"] = tracing
        environment["POWERTOOLS_TRACE_DISABLED"] = "false" if tracing == "Active" else "true"
    return environment


def layer_requirements(root: Path, target: Path) -> Path:
    """``root``'s layer requirements installed into ``target`` as its layer build installs
    them (pip, no bytecode kept, botocore and the scripts dropped), for this interpreter."""
    import shutil

    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    requirements = root / "layers" / "blogpub" / "requirements.txt"
    subprocess.run(
        [*pip, "--no-compile", "--target", str(target), "-r", str(requirements)],
        capture_output=True,
        check=True,
    )
    for dropped in [*target.glob("botocore*"), target / "bin"]:
        shutil.rmtree(dropped, ignore_errors=True)
    return target


def built_layer(
    root: Path, target: Path, *, bytecode: bool = True, dependencies: Path | None = None
) -> Path:
    """``root``'s layer as its layer build lays it out (layers/blogpub/Makefile): the
    ``dependencies`` (``layer_requirements``) when given, the package copied, the theme's
    templates precompiled and (unless ``bytecode`` is False) the bytecode compiled, each
    where that code has the step. The bytecode is made by this interpreter, the one that
    runs it here, as the build makes it with the runtime's CPython."""
    import shutil

    if dependencies is not None:
        shutil.copytree(dependencies, target, symlinks=True)
    shutil.copytree(
        root / "layers" / "blogpub" / "blogpub",
        target / "blogpub",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    if (target / "blogpub" / "templates.py").is_file():
        subprocess.run(
            [sys.executable, "-m", "blogpub.templates", str(target / "blogpub" / "theme_compiled")],
            env={"PYTHONPATH": str(target), "PYTHONDONTWRITEBYTECODE": "1"},
            cwd="/",
            capture_output=True,
            check=True,
        )
    compile_bytecode = root / "layers" / "blogpub" / "compile-bytecode.sh"
    if bytecode and compile_bytecode.is_file():
        version = "{}.{}".format(*sys.version_info[:2])
        subprocess.run(
            ["bash", str(compile_bytecode), str(target), version],
            env={**os.environ, "LAYER_PYTHON": sys.executable},
            capture_output=True,
            check=True,
        )
    return target


# What the first events import, timed in a fresh interpreter by ``layer_bytecode``.
_LAYER_IMPORT_PROGRAM = """\
import time
started = time.process_time()
import aws_lambda_powertools.logging, aws_lambda_powertools.metrics
import blogpub.service, blogpub.publish, blogpub.indexes, blogpub.render
print(1000 * (time.process_time() - started))
"""
BYTECODE_MODES = ("none", "timestamp", "checked-hash", "unchecked-hash")


def layer_bytecode(repetitions: int) -> dict[str, Any]:
    """CPU ms to import the first events' modules from the layer as the build installs it
    (its requirements by pip, for this interpreter, and the package), without bytecode and
    with each of compileall's invalidation modes; fresh interpreters that write no .pyc (as
    on Lambda's read-only /opt), round-robin, medians. boto3 is the environment's, compiled."""
    import shutil

    samples: dict[str, list[float]] = {mode: [] for mode in BYTECODE_MODES}
    with tempfile.TemporaryDirectory() as folder:
        sources = layer_requirements(REPO, Path(folder) / "sources")
        built_layer(REPO, sources, bytecode=False)
        modules = len(list(sources.rglob("*.py")))
        for mode in BYTECODE_MODES:
            shutil.copytree(sources, Path(folder) / mode)
            if mode != "none":
                compileall = [sys.executable, "-m", "compileall", "-q", "-j", "0"]
                subprocess.run(
                    [*compileall, "--invalidation-mode", mode, str(Path(folder) / mode)],
                    capture_output=True,
                    check=True,
                )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PYTHON"))}
        env |= LAMBDA_ENVIRONMENT | {"PYTHONDONTWRITEBYTECODE": "1"}
        for _ in range(repetitions):
            for mode in BYTECODE_MODES:
                completed = subprocess.run(
                    [sys.executable, "-c", _LAYER_IMPORT_PROGRAM],
                    env=env | {"PYTHONPATH": str(Path(folder) / mode)},
                    cwd="/",
                    capture_output=True,
                    text=True,
                    check=True,
                )
                samples[mode].append(float(completed.stdout))
    return {
        "repetitions": repetitions,
        "modules": modules,
        "import_cpu_median_ms": {m: round(statistics.median(v), 1) for m, v in samples.items()},
        "import_cpu_samples_ms": {m: [round(x, 1) for x in v] for m, v in samples.items()},
    }


def _fresh_interpreter(
    program: str, args: list[str], path: list[Path], environment: dict[str, str]
) -> dict[str, Any]:
    """Run ``program`` in a new interpreter (clean environment); the figures it wrote."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "PYTHON"))
    }
    env |= environment | {"PYTHONPATH": os.pathsep.join(str(p) for p in path)}
    # Lambda's /opt and /var/task are read-only: no run may leave .pyc for the next one.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "figures.json"
        completed = subprocess.run(
            [sys.executable, "-c", program, args[0], str(out), *args[1:]],
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0 or not out.is_file():
            raise RuntimeError(f"fresh interpreter failed:\n{completed.stderr[-3000:]}")
        figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return figures


def first_event(repetitions: int, variants: list[Variant]) -> dict[str, Any]:
    """Cold starts against a moto server: RenderPostFunction publishing the seed post onto an
    empty site, then BuildIndexesFunction on that publish's stream batch, each in a fresh
    interpreter (handler import, then its first event), for each variant in turn; and
    ``import boto3`` + one GetObject of the seed post in another, once per round. Between
    runs the seed is deleted in this process, so every run meets the same empty site. Each
    variant's layer, its requirements included, is laid out as its layer build does it
    (``layer_requirements``, ``built_layer``); boto3 is this environment's, as the runtime's.
    """
    import contextlib
    import io
    import logging

    from blogpub_local.moto_fidelity import install as install_moto_fidelity
    from blogpub_local.moto_process import serving_moto
    from moto import mock_aws
    from sites import Site

    install_moto_fidelity()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    seed_text = SEED_POST.read_text(encoding="utf-8")
    layers_folder = tempfile.TemporaryDirectory()
    dependencies: dict[str, Path] = {}  # one install per distinct requirements file
    layers = {}
    for variant in variants:
        wanted = (variant.root / "layers" / "blogpub" / "requirements.txt").read_text()
        if wanted not in dependencies:
            folder = Path(layers_folder.name) / f"requirements-{len(dependencies)}"
            dependencies[wanted] = layer_requirements(variant.root, folder)
        layers[variant.label] = built_layer(
            variant.root,
            Path(layers_folder.name) / variant.label,
            dependencies=dependencies[wanted],
        )
    baseline: list[dict[str, Any]] = []
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        variant.label: {name: [] for name in HANDLERS} for variant in variants
    }
    # moto as the local stack serves it: keep-alive connections, as AWS keeps them (moto's
    # ThreadedMotoServer closes each one: a connect per request, which no deployed function
    # pays, and which a function of 30 requests paid 30 times against the baseline's one).
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()), serving_moto() as endpoint:
        site = Site("cold-start")
        names = {
            "SOURCE_BUCKET": site.source,
            "SITE_BUCKET": site.bucket,
            "TABLE_NAME": site.table,
            "DISTRIBUTION_ID": site.distribution_id,
            "AWS_ENDPOINT_URL": endpoint,
        }
        environments = {
            variant.label: {
                name: deployed_environment(variant.root, name, names, variant.tracing)
                for name in HANDLERS
            }
            for variant in variants
        }
        try:
            for _ in range(repetitions):
                site.upload(SEED_KEY, seed_text)
                baseline.append(
                    _fresh_interpreter(
                        _GET_OBJECT_PROGRAM,
                        ["-", site.source, SEED_KEY],
                        [],
                        environments[variants[0].label]["RenderPostFunction"],
                    )
                )
                for variant in variants:
                    environment = environments[variant.label]
                    event = site.upload(SEED_KEY, seed_text)
                    layer = layers[variant.label]
                    render = _handler_run(layer, environment["RenderPostFunction"], event)
                    runs[variant.label]["RenderPostFunction"].append(render)
                    batch = {"Records": site.pending_records()}
                    build = _handler_run(layer, environment["BuildIndexesFunction"], batch)
                    runs[variant.label]["BuildIndexesFunction"].append(build)
                    site.unpublish(SEED_KEY)
        finally:
            layers_folder.cleanup()
    return _first_event_summary(baseline, runs, environments)


def _handler_run(layer: Path, environment: dict[str, str], event: Any) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(event, file, default=_lambda_json)
    try:
        return _fresh_interpreter(
            _HANDLER_PROGRAM,
            [file.name, environment["AWS_LAMBDA_FUNCTION_NAME"]],
            [Path(environment["BENCH_CODE_DIR"]), layer],
            environment,
        )
    finally:
        os.unlink(file.name)


def _medians(samples: list[dict[str, Any]], clock: str) -> dict[str, float]:
    """Medians of one clock's figures: ``clock`` is "" (wall time) or "_cpu" (this process's
    CPU time, which neither moto's server nor the machine's other load adds to)."""

    def median(values: Any) -> float:
        return round(statistics.median(values), 1)

    def figure(sample: dict[str, Any], name: str) -> float:
        return float(sample.get(f"{name}{clock}_ms", 0.0))

    return {
        "import_ms": median(figure(s, "import") for s in samples),
        "first_event_ms": median(figure(s, "first_event") for s in samples),
        "first_event_imports_ms": median(figure(s, "first_event_imports") for s in samples),
        "total_ms": median(figure(s, "import") + figure(s, "first_event") for s in samples),
        "imports_ms": median(
            figure(s, "import") + figure(s, "first_event_imports") for s in samples
        ),
    }


def _first_event_summary(
    baseline_samples: list[dict[str, Any]],
    runs: dict[str, dict[str, list[dict[str, Any]]]],
    environments: dict[str, dict[str, dict[str, str]]],
) -> dict[str, Any]:
    """Medians of each half and of the sum, in wall and CPU time; each function's sum over
    the baseline's, and its imports (handler import + those of the first event) over
    ``import boto3``."""
    clocks = {"wall": "", "cpu": "_cpu"}
    baselines = {name: _medians(baseline_samples, clock) for name, clock in clocks.items()}
    summary: dict[str, Any] = {
        "repetitions": len(baseline_samples),
        "baseline_median_ms": baselines,
        "baseline_samples_ms": [
            [round(s["import_ms"], 1), round(s["first_event_ms"], 1)] for s in baseline_samples
        ],
        "ratio_to_baseline": {},
        "variants": {},
    }
    for label, functions in runs.items():
        entry: dict[str, Any] = {
            "tracing": environments[label]["RenderPostFunction"]["BENCH_TRACING"],
            "trace_disabled_variable": environments[label]["RenderPostFunction"].get(
                "POWERTOOLS_TRACE_DISABLED", ""
            ),
            "functions": {},
        }
        for name, samples in functions.items():
            last = samples[-1]
            result: dict[str, Any] = {}
            for clock_name, clock in clocks.items():
                medians = _medians(samples, clock)
                baseline = baselines[clock_name]
                result[clock_name] = {
                    "median_ms": medians,
                    "ratio_to_baseline": round(medians["total_ms"] / baseline["total_ms"], 3),
                    "imports_ratio_to_import_boto3": round(
                        medians["imports_ms"] / baseline["import_ms"], 3
                    ),
                }
            result["samples_ms"] = [
                [round(s["import_ms"], 1), round(s["first_event_ms"], 1)] for s in samples
            ]
            result["heaviest_first_event_imports_ms"] = [
                [module, round(ms, 1), round(cpu_ms, 1)]
                for module, ms, cpu_ms in last["heaviest_first_event_imports"]
            ]
            result["loaded"] = [m for m in WATCHED_MODULES if m in last["modules"]]
            result["answer"] = _short_answer(last["answer"])
            entry["functions"][name] = result
        summary["variants"][label] = entry
        summary["ratio_to_baseline"][label] = {
            name: {clock: result[clock]["ratio_to_baseline"] for clock in clocks}
            for name, result in entry["functions"].items()
        }
    return summary


def _short_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """What the event did, in a few numbers: proof that each run did the full work."""
    if "results" in answer:
        return {"outcomes": [r["outcome"] for r in answer["results"]]}
    return {
        "pages_written": len(answer.get("pages_written", [])),
        "batch_item_failures": len(answer.get("batchItemFailures", [])),
    }


def peak_rss_bytes() -> int:
    """This process's peak resident set size.

    Linux keeps ``ru_maxrss`` across fork and exec, so a child started from a large parent
    reports the parent's size; ``VmHWM`` belongs to the process's own address space.
    """
    peak = _status_bytes("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status_bytes(field: str) -> int | None:
    """A size field of ``/proc/self/status`` in bytes; None where there is no such file."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return None


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


def rss_bytes() -> int:
    """This process's resident set size now (``VmRSS``): unlike the peak, it shows memory
    that stays held after the work that took it."""
    current = _status_bytes("VmRSS")
    if current is None:
        raise RuntimeError("/proc/self/status has no VmRSS line")
    return current


def render_each(renderer: Any, settings: Any, sources: list[tuple[str, bytes]]) -> int:
    """Read and render every ``(key, raw)`` source with the ``blogpub`` already imported;
    how many rendered (a post the reader refuses is skipped, as the pipeline rejects it)."""
    from blogpub.errors import PostError
    from blogpub.reader import read_post

    rendered = 0
    for key, raw in sources:
        try:
            renderer.render_post(read_post(raw, key, settings))
        except PostError:
            continue
        rendered += 1
    return rendered


def warm_render_memory(paths: list[Path], passes: int) -> dict[str, object]:
    """Every post of ``paths`` read and rendered ``passes`` times in this fresh process, as a
    warm function renders post after post: the RSS after each pass. Memory a render keeps
    (a leak) grows it pass by pass; caches fill in the first pass and then stay."""
    from blogpub.render import Renderer
    from blogpub.settings import Settings

    settings = Settings()
    renderer = Renderer(settings)
    sources = [(f"_posts/{path.name}", path.read_bytes()) for path in paths]
    rss_after_pass = []
    rendered = 0
    for _ in range(passes):
        rendered += render_each(renderer, settings, sources)
        rss_after_pass.append(rss_bytes())
    return {
        "posts": len(sources),
        "passes": passes,
        "renders": rendered,
        "rss_after_each_pass_bytes": rss_after_pass,
        # after the first pass (imports, templates, lexers): what each later pass kept
        "rss_growth_after_first_pass_bytes": rss_after_pass[-1] - rss_after_pass[0],
    }


def warm_render_memory_in_subprocess(paths: list[Path], passes: int) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, __file__, "warm-render-memory", str(passes), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(completed.stdout)
    return result


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
    elif len(sys.argv) > 3 and sys.argv[1] == "warm-render-memory":
        print(json.dumps(warm_render_memory([Path(p) for p in sys.argv[3:]], int(sys.argv[2]))))
    else:
        raise SystemExit(
            "usage: probes.py render-memory <post.md> | build-memory <event.json>"
            " | warm-render-memory <passes> <post.md>..."
        )
