"""`make bench`: every figure of bench/README.md in one run, written to bench/results.json.

    python bench/run.py                       # the full run (sites of 100, 1,000, 10,000)
    python bench/run.py --sizes 50,200 --repetitions 2 --out /tmp/bench   # a quick look

    python bench/run.py --sizes 100,1000 --skip cold_start,render,render_memory,publish_cost
                                              # the bill only; other sections are kept

    python bench/run.py --only corpus_throughput   # one section; the others are kept

Sections: cold start (subprocesses), render throughput and the 10,000-post rebuild, the
corpus's read + render throughput beside the commit issue 14 was filed at (bench/throughput.py),
the memory of one render (subprocess), publish cost against site size on an in-process moto
with the three sites side by side, then the bill (bench/cost.py): dollars per 1,000
publishes of each kind before and after issue 15; then the pathological inputs, the idle
CPU of `blogpub local up` (bench/idle.py), and last a bulk import of 1,000 posts onto the
local stack beside `hexo generate` of the same posts (bench/importing.py, issue 17). A run
keeps the sections it skips from the results file it updates. Charts are drawn from the
JSON at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from environment import BASE_ENVIRONMENT  # noqa: E402 - bench/ is put on the path first

# Before the package is imported: Powertools reads its environment at import time.
os.environ.update(BASE_ENVIRONMENT)

import idle  # noqa: E402
import importing  # noqa: E402
import pathological  # noqa: E402
import probes  # noqa: E402
import throughput  # noqa: E402
from posts import post_key, post_source, write_posts  # noqa: E402

CORPUS = BENCH.parents[1] / "shared" / "corpus"


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*.md") if p.name != "README.md")


# -- 3b. cold start: import plus the first event ------------------------------------------------
def first_event(repetitions: int, before: Path | None) -> dict[str, Any]:
    """As template.yaml deploys the functions, with X-Ray tracing turned on, and (given a
    checkout of earlier code) as that code deploys them, round-robin in one run."""
    variants = [probes.Variant("deployed"), probes.Variant("tracing_active", tracing="Active")]
    if before is not None:
        variants.append(probes.Variant("before", root=before.resolve()))
    result = probes.first_event(repetitions, variants)
    result["layer_bytecode"] = probes.layer_bytecode(repetitions)
    return result


# -- 2. render throughput ---------------------------------------------------------------------
def corpus_rates(sources: list[tuple[str, bytes]], settings: Any, rounds: int) -> dict[str, Any]:
    """Read and render the corpus posts ``rounds`` times: the median posts per second."""
    from blogpub.errors import PostError
    from blogpub.reader import read_post
    from blogpub.render import Renderer

    renderer = Renderer(settings)
    with contextlib.suppress(PostError):  # the lazy imports, before the clock starts
        renderer.render_post(read_post(sources[0][1], sources[0][0], settings))
    read_rates, render_rates, both_rates, rejected = [], [], [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        posts = []
        for key, raw in sources:
            try:
                posts.append(read_post(raw, key, settings))
            except PostError:
                rejected += 1
        read_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for post in posts:
            renderer.render_post(post)
        render_seconds = time.perf_counter() - started
        read_rates.append(len(sources) / read_seconds)
        render_rates.append(len(posts) / render_seconds)
        both_rates.append(len(posts) / (read_seconds + render_seconds))
    return {
        "posts": len(sources),
        "rejected": rejected // rounds,
        "bytes": sum(len(raw) for _, raw in sources),
        "rounds": rounds,
        "read_posts_per_second": round(statistics.median(read_rates), 1),
        "render_posts_per_second": round(statistics.median(render_rates), 1),
        "read_and_render_posts_per_second": round(statistics.median(both_rates), 1),
    }


def render_throughput(rebuild_posts: int, rounds: int) -> dict[str, Any]:
    from blogpub.reader import read_post
    from blogpub.render import Renderer
    from blogpub.settings import Settings

    settings = Settings()
    renderer = Renderer(settings)
    result: dict[str, Any] = {}
    files = corpus_files()
    if files:
        sources = [(f"_posts/{path.name}", path.read_bytes()) for path in files]
        # Hexo's defaults: tag plugins, math and highlighting on (issue 14); then the same
        # posts without highlighting, to show what Pygments costs.
        result["corpus"] = corpus_rates(sources, settings, rounds)
        plain = replace(settings, highlight=replace(settings.highlight, enable=False))
        result["corpus_without_highlighting"] = corpus_rates(sources, plain, rounds)
    started = time.perf_counter()
    rendered = [
        renderer.render_post(read_post(post_source(i).encode("utf-8"), post_key(i), settings))
        for i in range(rebuild_posts)
    ]
    posts_seconds = time.perf_counter() - started
    started = time.perf_counter()
    pages = renderer.site(rendered)
    site_seconds = time.perf_counter() - started
    post_urls = {post.page.url for post in rendered}
    largest = max((page for page in pages if page.url not in post_urls), key=lambda p: len(p.body))
    result["rebuild"] = {
        "posts": rebuild_posts,
        "post_pages_seconds": round(posts_seconds, 2),
        "read_and_render_posts_per_second": round(rebuild_posts / posts_seconds, 1),
        "index_pages": len(pages) - rebuild_posts,
        "index_pages_seconds": round(site_seconds, 2),
        "total_seconds": round(posts_seconds + site_seconds, 2),
        "site_bytes": sum(len(page.body) for page in pages),
        "largest_index_page": {"url": largest.url, "bytes": len(largest.body)},
    }
    return result


# -- 4. memory of one render ---------------------------------------------------------------------
WARM_RENDER_PASSES = 10


def render_memory() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        # No corpus on a fresh clone: our generated posts stand in for it.
        posts = corpus_files() or write_posts(Path(folder), 50)
        largest = max(posts, key=lambda p: p.stat().st_size)
        return probes.render_memory_in_subprocess(largest) | {
            "warm": probes.warm_render_memory_in_subprocess(posts, WARM_RENDER_PASSES)
        }


# -- 1. publish cost against site size -----------------------------------------------------------
def publish_cost(sizes: list[int], repetitions: int) -> dict[str, Any]:
    from blogpub_local.moto_fidelity import install as install_moto_fidelity
    from moto import mock_aws
    from moto.server import ThreadedMotoServer
    from sites import Site, newcomer

    install_moto_fidelity()
    out: dict[str, Any] = {"sizes": sizes, "repetitions": repetitions, "sites": {}}
    # Metrics are flushed to stdout as EMF every 100 data points; not wanted in the output.
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        sites = {size: Site(f"bench-{size}") for size in sizes}
        for size, site in sites.items():
            started = time.perf_counter()
            seeding = site.seed(size, progress=lambda name, n, total: log(f"{name}: {n}/{total}"))
            out["sites"][str(size)] = {
                "seed_seconds": round(time.perf_counter() - started, 1),
                "seed_publish_seconds": round(seeding["publish_seconds"], 1),
                "seed_build_seconds": round(seeding["build_seconds"], 1),
                "costs": [],
            }
        log("seeded; measuring one publish per site, round-robin")
        # The same moto, over HTTP, for the round whose build runs in a fresh interpreter.
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        for repetition in range(repetitions + 2):
            for size, site in sites.items():
                key, text = newcomer(repetition)
                # The last two rounds measure memory (tracemalloc here, then the peak RSS of a
                # fresh process); both slow the build, so neither is timed.
                traced = repetition == repetitions
                in_subprocess = repetition == repetitions + 1
                cost = site.publish_one(
                    key,
                    text,
                    trace_memory=traced,
                    rss_endpoint=f"http://{host}:{port}" if in_subprocess else None,
                )
                site.unpublish(key)
                entry = out["sites"][str(size)]
                if traced:
                    entry["build_indexes_traced_peak_bytes"] = cost.build_indexes_peak_bytes
                    entry["traced_counts"] = cost.counts()
                elif in_subprocess:
                    entry["build_indexes_process"] = cost.build_indexes_rss
                else:
                    entry["costs"].append(
                        cost.counts()
                        | {
                            "render_post_seconds": cost.render_post_seconds,
                            "build_indexes_seconds": cost.build_indexes_seconds,
                            "wall_seconds": cost.wall_seconds,
                        }
                    )
            log(f"round {repetition + 1}/{repetitions + 2} done")
        server.stop()
    baseline = out["sites"][str(sizes[0])]
    for size in sizes:
        entry = out["sites"][str(size)]
        costs = entry["costs"]
        entry["counts"] = costs[0] and {k: v for k, v in costs[0].items() if "seconds" not in k}
        entry["counts_stable"] = all(
            {k: v for k, v in c.items() if "seconds" not in k} == entry["counts"] for c in costs
        )
        for name in ("render_post_seconds", "build_indexes_seconds", "wall_seconds"):
            entry[f"median_{name}"] = round(statistics.median(c[name] for c in costs), 4)
        entry["wall_ratio_to_smallest"] = round(
            entry["median_wall_seconds"] / baseline["median_wall_seconds"], 3
        )
        entry["counts_equal_smallest"] = entry["counts"] == baseline["counts"]
    return out


# -- 1b. requests per publish at each size (issue 17) ----------------------------------------
def requests_per_publish(sizes: list[int], previous: dict[str, Any]) -> dict[str, Any]:
    """One site grown through the real functions to each size in turn (seeded in chunks, the
    stream drained between them), and at each size one new post published and counted by
    operation and by function, then deleted again."""
    from blogpub_local.moto_fidelity import install as install_moto_fidelity
    from moto import mock_aws
    from sites import Site, newcomer

    install_moto_fidelity()
    out: dict[str, Any] = {"sizes": sizes, "sites": {}}
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        site = Site("requests")
        for size in sorted(sizes):
            started = time.perf_counter()
            site.seed(size, progress=lambda name, n, total: log(f"{name}: {n}/{total}"))
            seed_seconds = time.perf_counter() - started
            key, text = newcomer(0)  # the same post at every size, under a key of its own
            key = key.replace(".md", f"-at-{size}.md")
            cost = site.publish_one(key, text)
            site.unpublish(key)
            total = sum(cost.calls.values())
            out["sites"][str(size)] = {
                "requests": total,
                "render_post_requests": cost.render_post_requests,
                "build_indexes_requests": total - cost.render_post_requests,
                "by_operation": cost.calls,
                "pages_written": cost.pages_written,
                "seed_seconds": round(seed_seconds, 1),
            }
            log(f"requests per publish at {size} posts: {total}")
    first = out["sites"][str(min(sizes))]
    out["counts_equal_at_every_size"] = all(
        entry["by_operation"] == first["by_operation"] for entry in out["sites"].values()
    )
    # Before: the publish_cost section of the results file this run updates (its counts).
    before = (previous.get("publish_cost") or {}).get("sites", {}).get(str(min(sizes)))
    if before:
        counts = before["counts"]
        requests = sum(counts[name] for name in ("s3_requests", "dynamodb_requests"))
        out["before"] = {
            "requests": requests + counts["invalidations"],
            "source": f"bench/results.json publish_cost, run started {previous.get('started')}",
        }
        out["ratio_to_before"] = round(first["requests"] / out["before"]["requests"], 3)
    return out


# -- 5. the bill ------------------------------------------------------------------------------
FRESHNESS_ARTIFACT = BENCH.parent / "test-artifacts" / "freshness.json"


def bill(sizes: list[int], previous: dict[str, Any]) -> dict[str, Any]:
    import cost
    from blogpub_local.moto_fidelity import install as install_moto_fidelity
    from moto import mock_aws
    from sites import Site

    install_moto_fidelity()
    out: dict[str, Any] = {
        "prices_date": cost.PRICES_DATE,
        "prices": cost.PRICES,
        "publishes": cost.PUBLISHES,
        "sites": {},
    }
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        for size in sizes:
            site = Site(f"bill-{size}")
            site.seed(size, progress=lambda name, n, total: log(f"{name}: {n}/{total}"))
            out["sites"][str(size)] = {
                "after": cost.measure_kinds(site, 0),
                "before_new_post": cost.before_new_post(previous, str(size)),
            }
            log(f"bill: {size} posts measured")
    out["before_source"] = "bench/results.json publish_cost of the previous run (new posts only)"
    out["revalidation_dollars_per_month"] = {
        "one_page_one_edge_ttl_60": cost.revalidation_dollars_per_month(1, 1, 60),
        "100_pages_20_edges_ttl_60": cost.revalidation_dollars_per_month(100, 20, 60),
    }
    if FRESHNESS_ARTIFACT.is_file():
        out["freshness"] = json.loads(FRESHNESS_ARTIFACT.read_text(encoding="utf-8"))
        out["freshness_source"] = "tests/e2e/test_freshness.py on the local caching distribution"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--import-repetitions", type=int, default=7)
    parser.add_argument(
        "--bulk-import-posts", type=int, default=1000, help="posts of the import beside Hexo"
    )
    parser.add_argument("--out", type=Path, default=BENCH)
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of earlier code (functions/, layers/, template.yaml): first_event "
        "measures it too, e.g. git worktree add /tmp/before main",
    )
    parser.add_argument("--skip", default="", help="comma-separated sections to skip")
    parser.add_argument("--only", default="", help="comma-separated sections to run alone")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    skip = set(filter(None, args.skip.split(",")))
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    previous: dict[str, Any] = (
        json.loads(results_path.read_text(encoding="utf-8")) if results_path.is_file() else {}
    )
    results: dict[str, Any] = {
        **{name: value for name, value in previous.items() if name.split("_section")[0] in skip},
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        },
    }

    def save() -> None:
        results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    sections: list[tuple[str, Callable[[], Any]]] = [
        ("cold_start", lambda: probes.cold_start(args.import_repetitions)),
        ("first_event", lambda: first_event(args.import_repetitions, args.before)),
        ("render", lambda: render_throughput(max(sizes), rounds=3)),
        ("corpus_throughput", throughput.run),
        ("render_memory", render_memory),
        ("publish_cost", lambda: publish_cost(sizes, args.repetitions)),
        ("requests_per_publish", lambda: requests_per_publish(sizes, previous)),
        ("bill", lambda: bill(sizes, previous)),
        ("pathological", pathological.run_all),
        ("idle_cpu", idle.idle_cpu),
        ("bulk_import", lambda: importing.run(args.bulk_import_posts)),
    ]
    if args.only:
        skip |= {name for name, _ in sections} - set(args.only.split(","))
        results.update({k: v for k, v in previous.items() if k.split("_section")[0] in skip})
    for name, measure in sections:
        if name in skip:
            continue
        log(f"{name} ...")
        started = time.perf_counter()
        results[name] = measure()
        results[name + "_section_seconds"] = round(time.perf_counter() - started, 1)
        save()
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    save()
    log(f"results in {results_path}")
    from charts import draw_all

    try:
        drawn = draw_all(results, args.out)
    except ModuleNotFoundError as error:  # the charts' matplotlib is the `bench` extra's
        log(f"charts not drawn: {error.name} is not installed (`make bench` installs it)")
        return
    for path in drawn:
        log(f"chart {path}")


if __name__ == "__main__":
    main()
