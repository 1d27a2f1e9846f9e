"""Instructions a corpus read + render pass costs, counted by valgrind: a figure the
machine's load does not move.

Wall and CPU time on these shared machines swing by a quarter between runs minutes apart
(bench/README.md), which hides a change of a few per cent. The instructions a pass executes
hardly move: this counts them with cachegrind (``--cache-sim=no``: the count only) for this
tree and for the layer of the commit issue 14 was filed at (``throughput.BASE_COMMIT``).

A variant is counted twice in fresh interpreters with ``PYTHONHASHSEED=0``: after
``warm_up`` untimed passes over the corpus alone, and with ``passes`` more. The difference,
divided by ``passes``, is the instructions of one steady pass: imports, lexers combined and
patterns compiled on the way stay in the warm-up. (Under valgrind a lexer reaches
``lexing.COMBINE_AFTER_SECONDS`` of Pygments' loop sooner than at full speed, so the
warm-up passes combine more than they would unobserved; the steady pass is the same.)

    python bench/instructions.py                      # this tree and the base commit
    python bench/instructions.py --layer /tmp/layer   # another layer, beside this tree's

It takes a few minutes: valgrind runs the interpreter about fifty times slower.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from throughput import CORPUS, LAYER, REPO, base_layer

BENCH = Path(__file__).resolve().parent
_I_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
_PASSES = """
import sys
sys.path.insert(0, {bench!r})
from pathlib import Path
from throughput import corpus_pass
one_pass = corpus_pass(Path(sys.argv[1]), highlight=True)
for _ in range(int(sys.argv[2])):
    one_pass()
"""


def count(layer: Path, passes: int) -> int:
    """Instructions of a fresh interpreter that reads and renders the corpus ``passes`` times."""
    completed = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-c",
            _PASSES.format(bench=str(BENCH)),
            str(layer),
            str(passes),
        ],
        env=os.environ | {"PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    found = _I_REFS.search(completed.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{completed.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_pass(layer: Path, warm_up: int, passes: int) -> int:
    """Instructions of one steady pass: the two counts run side by side on two cores."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        before = pool.submit(count, layer, warm_up)
        after = pool.submit(count, layer, warm_up + passes)
        return (after.result() - before.result()) // passes


def run(others: list[Path], warm_up: int = 5, passes: int = 2) -> dict[str, Any]:
    if shutil.which("valgrind") is None:
        return {"skipped": "valgrind is not installed"}
    if not CORPUS.is_dir():
        return {"skipped": "../shared/corpus is absent"}
    out: dict[str, Any] = {
        "method": f"cachegrind instruction counts, PYTHONHASHSEED=0: ({warm_up} + {passes}) "
        f"passes minus {warm_up}, over {passes}",
        "now": per_pass(REPO / LAYER, warm_up, passes),
    }
    with tempfile.TemporaryDirectory(prefix="bench-base-") as folder:
        layers = {str(layer): layer for layer in others}
        if not others:
            base = base_layer(Path(folder))
            if base is None:
                return out | {"base": {"skipped": "not a git checkout with that commit"}}
            layers = {"base_8cf99ee": base}
        for name, layer in layers.items():
            out[name] = per_pass(layer, warm_up, passes)
            out[f"ratio_{name}_to_now"] = round(out[name] / out["now"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=Path, action="append", default=[])
    parser.add_argument("--warm-up", type=int, default=5)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.layer, args.warm_up, args.passes), indent=2))


if __name__ == "__main__":
    main()
