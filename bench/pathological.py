"""Issue 16's pathological corpus: every case up to 1 MiB, each read and rendered in a fresh
process. Targets: the slowest accepted case within 2 s and 256 MB peak RSS; the cases past
the limits rejected in under 100 ms (the time of read + render, not the interpreter start).

``python bench/pathological.py`` prints JSON; ``python bench/pathological.py one <name>`` is
the child that measures one case.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
HEAD = "---\ntitle: Pathological\ndate: 2024-04-01 12:00:00\n---\n"
SLOWEST_ACCEPTED_SECONDS = 2.0
PEAK_RSS_MB = 256
REJECTED_SECONDS = 0.1


def _fill(unit: str, size: int = MIB - 200) -> str:
    return unit * (size // len(unit))


def _laughs() -> str:
    lines = ['a0: &a0 "lol"']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "---\n" + "\n".join(lines) + "\ntitle: x\ndate: 2024-01-01\ncategories: *a9\n---\nb\n"


ACCEPTED: dict[str, Callable[[], str]] = {
    "quotes-256-deep": lambda: HEAD + _fill("> " * 250 + "x\n"),
    "divs-250-deep": lambda: HEAD + _fill("<div>" * 250 + "x" + "</div>" * 250 + "\n"),
    "lists-120-deep": lambda: HEAD + _fill("".join("  " * i + "- x\n" for i in range(120))),
    "many-links": lambda: HEAD + _fill("[a](https://e.example/x) "),
    "many-autolinks": lambda: HEAD + _fill("www.e.example "),
    "many-raw-tags": lambda: HEAD + _fill("<a href=x>y</a> "),
    "entities": lambda: HEAD + _fill("&amp;&#x41;&lt; "),
    "html-comments": lambda: HEAD + _fill("<!-- more --> "),
    "long-line": lambda: HEAD + _fill("x"),
    "emphasis-at-limit": lambda: HEAD + _fill("*a b ", 5 * 199_000),
    "table-1-mib": lambda: HEAD + _fill("|" + "abcdefghij|" * 40 + "\n|" + "-|" * 40 + "\n"),
    "table-at-limit": lambda: HEAD + _fill("|" + "a|" * 40 + "\n|" + "-|" * 40 + "\n", 2 * 199_000),
}
REJECTED: dict[str, Callable[[], str]] = {
    "quotes-32k-deep": lambda: HEAD + "> " * 32_000 + "x\n",
    "quotes-1-mib": lambda: HEAD + _fill("> "),
    "divs-200k": lambda: HEAD + _fill("<div>"),
    "lists-600-deep": lambda: HEAD + "".join("  " * i + "- x\n" for i in range(600)),
    "billion-laughs": _laughs,
    "wide-table": lambda: HEAD + _fill("|" + "a|" * 1000 + "\n|" + "-|" * 1000 + "\n")[: MIB - 200],
    "emphasis-run": lambda: HEAD + _fill("*a "),
    "underscores": lambda: HEAD + _fill("_a_ __b__ "),
    "open-brackets": lambda: HEAD + _fill("["),
    "bracket-pairs": lambda: HEAD + _fill("[a]("),
    "backtick-runs": lambda: HEAD + _fill("`` ` "),
    "strong-run": lambda: HEAD + _fill("**"),
    "long-integer": lambda: HEAD.replace("---\n", "---\nn: 0x" + "f" * 4000 + "\n", 1),
}


def measure_one(name: str) -> dict[str, object]:
    from blogpub.errors import PostError
    from blogpub.reader import read_post
    from blogpub.render import Renderer
    from blogpub.settings import Settings

    source = {**ACCEPTED, **REJECTED}[name]().encode("utf-8")
    renderer = Renderer(Settings())
    renderer.render_post(read_post(HEAD.encode() + b"warm\n", "_posts/warm.md", Settings()))
    started = time.perf_counter()
    outcome, reason = "published", None
    try:
        renderer.render_post(read_post(source, f"_posts/{name}.md", Settings()))
    except PostError as error:
        outcome, reason = "rejected", error.reason
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "bytes": len(source),
        "outcome": outcome,
        "reason": reason,
        "seconds": round(seconds, 4),
        "peak_rss_mb": round(peak_mb, 1),
    }


def run_all() -> dict[str, object]:
    cases: dict[str, dict[str, object]] = {}
    for name in [*ACCEPTED, *REJECTED]:
        child = subprocess.run(
            [sys.executable, __file__, "one", name],
            capture_output=True, text=True, check=True, timeout=600,
        )  # fmt: skip
        cases[name] = json.loads(child.stdout)
        cases[name]["expected"] = "published" if name in ACCEPTED else "rejected"
    accepted = {n: c for n, c in cases.items() if n in ACCEPTED}
    rejected = {n: c for n, c in cases.items() if n in REJECTED}
    slowest = max(accepted, key=lambda n: float(accepted[n]["seconds"]))  # type: ignore[arg-type]
    return {
        "cases": cases,
        "slowest_accepted": {"name": slowest, **accepted[slowest]},
        "largest_peak_rss_mb": max(float(c["peak_rss_mb"]) for c in cases.values()),  # type: ignore[arg-type]
        "slowest_rejection_seconds": max(float(c["seconds"]) for c in rejected.values()),  # type: ignore[arg-type]
        "every_outcome_as_expected": all(c["outcome"] == c["expected"] for c in cases.values()),
        "targets": {
            "slowest_accepted_seconds": SLOWEST_ACCEPTED_SECONDS,
            "peak_rss_mb": PEAK_RSS_MB,
            "rejected_seconds": REJECTED_SECONDS,
        },
    }


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "layers" / "blogpub"))
    if len(sys.argv) == 3 and sys.argv[1] == "one":
        print(json.dumps(measure_one(sys.argv[2])))
    else:
        print(json.dumps(run_all(), indent=2))
