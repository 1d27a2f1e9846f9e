"""Read + render throughput of the corpus, now and at the commit issue 14 was filed against.

Three variants, each in its own interpreter, round-robin so that a busy machine slows all
of them alike: this tree with Hexo's defaults (tag plugins, math and highlighting on), this
tree without highlighting, and commit ``BASE_COMMIT``'s layer (``git archive``), which
rendered neither tags, math nor highlighting. A variant reads and renders every corpus post
``WARM_UP_PASSES`` times untimed (imports, caches, compiled patterns), then ``passes``
times timed; a round's figure is the median of its timed passes (its first pass is
reported too). It goes on to ``SETTLED_AFTER_PASSES`` passes and times ``passes`` more:
the settled figure, once the lexers a pass uses are all combined. Both wall and CPU time
(``time.process_time``) are reported: on a shared machine the CPU figure is the one to
compare.

    python bench/throughput.py --layer layers/blogpub --highlight on --passes 3   # one variant
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CORPUS = REPO.parent / "shared" / "corpus"
BASE_COMMIT = "8cf99ee"  # issue 14 was filed at this commit
LAYER = "layers/blogpub"
# Untimed passes first: imports, caches, and lexing.py's combined patterns (a lexer is
# combined once Pygments' loop has taken COMBINE_AFTER_SECONDS for it, a state when first
# entered).
WARM_UP_PASSES = 2
# Two passes do not finish that: a lexer with little code in the corpus reaches
# COMBINE_AFTER_SECONDS in a later pass, and its states' patterns are compiled as the driver
# first meets them (measured: 20-40 ms of a pass in passes 3 to 6, a few ms after). The
# settled figure is timed after this many passes, when a warm function has done that too.
SETTLED_AFTER_PASSES = 6


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*.md") if p.name != "README.md")


def corpus_pass(layer: Path, highlight: bool) -> Callable[[], int]:
    """One read + render pass over the corpus with the blogpub package of ``layer``
    (imported into this interpreter, which should be fresh): a call returns the posts
    rendered."""
    sys.path[:0] = [str(layer.resolve()), str(BENCH)]
    from environment import BASE_ENVIRONMENT

    os.environ.update(BASE_ENVIRONMENT)
    import blogpub
    from blogpub.config import DEFAULT_POSTS_PREFIX
    from blogpub.render import Renderer
    from blogpub.settings import Settings
    from probes import render_each

    assert Path(blogpub.__file__).is_relative_to(layer.resolve()), blogpub.__file__
    settings = Settings()
    if not highlight:
        settings = replace(settings, highlight=replace(settings.highlight, enable=False))
    renderer = Renderer(settings)
    # the posts prefix moved from posts/ to _posts/ after the base commit
    sources = [(DEFAULT_POSTS_PREFIX + path.name, path.read_bytes()) for path in corpus_files()]
    return lambda: int(render_each(renderer, settings, sources))


def measure(layer: Path, highlight: bool, passes: int) -> dict[str, Any]:
    """Posts per second of the blogpub package of ``layer`` (run in a fresh interpreter)."""
    one_pass = corpus_pass(layer, highlight)
    sources = corpus_files()

    wall, cpu = [], []
    rendered = 0
    for _ in range(SETTLED_AFTER_PASSES + passes):
        started, started_cpu = time.perf_counter(), time.process_time()
        rendered = one_pass()
        wall.append(rendered / (time.perf_counter() - started))
        cpu.append(rendered / (time.process_time() - started_cpu))
    timed = slice(WARM_UP_PASSES, WARM_UP_PASSES + passes)
    return {
        "posts": len(sources),
        "rendered": rendered,
        "bytes": sum(path.stat().st_size for path in sources),
        "wall_posts_per_second": round(statistics.median(wall[timed]), 1),
        "cpu_posts_per_second": round(statistics.median(cpu[timed]), 1),
        "settled_cpu_posts_per_second": round(statistics.median(cpu[SETTLED_AFTER_PASSES:]), 1),
        # imports, the first lexers made and their patterns compiled, in this pass only
        "first_pass_cpu_posts_per_second": round(cpu[0], 1),
    }


def base_layer(folder: Path) -> Path | None:
    """The base commit's layer unpacked into ``folder``; None outside a git checkout."""
    archive = folder / "base.tar"
    made = subprocess.run(
        ["git", "archive", "--output", str(archive), BASE_COMMIT, LAYER],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        return None
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / LAYER


def _variant(layer: Path, highlight: bool, passes: int) -> dict[str, Any]:
    completed = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--layer",
            str(layer),
            "--highlight",
            "on" if highlight else "off",
            "--passes",
            str(passes),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def run(rounds: int = 3, passes: int = 3) -> dict[str, Any]:
    """The three variants round-robin, ``rounds`` interpreters each: medians of the rounds."""
    if not CORPUS.is_dir():
        return {"skipped": "../shared/corpus is absent"}
    with tempfile.TemporaryDirectory(prefix="bench-base-") as folder:
        base = base_layer(Path(folder))
        variants = {
            "now_with_highlighting": (REPO / LAYER, True),
            "now_without_highlighting": (REPO / LAYER, False),
        }
        if base is not None:
            variants[f"base_{BASE_COMMIT}"] = (base, True)
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, (layer, highlight) in variants.items():
                samples[name].append(_variant(layer, highlight, passes))
    out: dict[str, Any] = {
        "method": f"{rounds} rounds round-robin, each a fresh interpreter: {WARM_UP_PASSES} "
        f"untimed passes over the corpus, then the median of {passes} timed passes; settled: "
        f"the median of {passes} passes after {SETTLED_AFTER_PASSES}; figures are the medians "
        "of the rounds",
        "load_average": os.getloadavg(),
    }
    for name, runs in samples.items():
        out[name] = {key: runs[0][key] for key in ("posts", "rendered", "bytes")} | {
            key: round(statistics.median(run[key] for run in runs), 1)
            for key in (
                "wall_posts_per_second",
                "cpu_posts_per_second",
                "settled_cpu_posts_per_second",
                "first_pass_cpu_posts_per_second",
            )
        }
    if base is None:
        out[f"base_{BASE_COMMIT}"] = {"skipped": "not a git checkout with that commit"}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=Path, help="measure this layer's package (one variant)")
    parser.add_argument("--highlight", choices=("on", "off"), default="on")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.layer is not None:
        print(json.dumps(measure(args.layer, args.highlight == "on", args.passes)))
    else:
        print(json.dumps(run(args.rounds, args.passes), indent=2))


if __name__ == "__main__":
    main()
