"""Idle CPU of `blogpub local up` (issue 17): the stack started, nothing written, CPU measured.

The stack runs as a user runs it (the console script, a subprocess); after a warm-up the CPU
time of its process and of its children (moto runs in one; user + system, from /proc) is read
twice, ``seconds`` apart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TARGET_CPU_SECONDS_PER_SECOND = 0.01  # "under 1 %": of one core, the stricter reading


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its threads so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and of its children (the stack's moto process among them)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="ascii").rpartition(")")[2].split()
            except OSError:
                continue  # ended meanwhile
            if int(stat[1]) == pid:  # field 4 of proc(5): the parent's id
                children.append(int(entry.name))
    return process_cpu_seconds(pid) + sum(tree_cpu_seconds(child) for child in children)


def idle_cpu(seconds: float = 30.0, warmup: float = 10.0) -> dict[str, Any]:
    blogpub = Path(sys.executable).parent / "blogpub"
    with tempfile.TemporaryDirectory() as state_dir:
        command = [str(blogpub), "local", "up", "--port", "0", "--site-port", "0"]
        command += ["--state", str(Path(state_dir) / "local.json")]
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        try:
            assert process.stdout is not None
            started = time.monotonic()
            json.loads(process.stdout.readline())  # the ready line
            ready_seconds = time.monotonic() - started
            time.sleep(warmup)
            cpu_before, clock_before = tree_cpu_seconds(process.pid), time.monotonic()
            time.sleep(seconds)
            cpu_after, clock_after = tree_cpu_seconds(process.pid), time.monotonic()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    rate = (cpu_after - cpu_before) / (clock_after - clock_before)
    return {
        "command": "blogpub local up --port 0 --site-port 0",
        "ready_seconds": round(ready_seconds, 2),
        "warmup_seconds": warmup,
        "measured_seconds": round(clock_after - clock_before, 1),
        "cpu_seconds_per_second": round(rate, 4),
        "percent_of_one_core": round(100 * rate, 2),
        "percent_of_machine": round(100 * rate / (os.cpu_count() or 1), 2),
        "target_cpu_seconds_per_second": TARGET_CPU_SECONDS_PER_SECOND,
        "within_target": rate < TARGET_CPU_SECONDS_PER_SECOND,
    }


if __name__ == "__main__":
    print(json.dumps(idle_cpu(), indent=2))
