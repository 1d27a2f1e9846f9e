"""The sanitiser tests on the lowest nh3 pyproject.toml allows (issue 16: 0.3.0-0.3.6 once
let a marker in an attribute become a live <img onerror>).

nh3 at the floor goes into a throwaway folder put first on PYTHONPATH; everything else is
this venv's. pip fetches the wheel from the configured index.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SANITISER_TESTS = (
    "tests/unit/test_hostile_markup.py",
    "tests/unit/test_sanitize.py",
    "tests/unit/test_markup.py",
)


def nh3_floor() -> str:
    declared = re.search(r'"nh3>=([0-9.]+)"', (REPO / "pyproject.toml").read_text())
    assert declared is not None, "pyproject.toml must declare an nh3 floor"
    return declared.group(1)


def test_the_sanitiser_tests_pass_on_the_nh3_floor(tmp_path: Path) -> None:
    floor = nh3_floor()
    target = tmp_path / "nh3-floor"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "--no-deps", "--target", str(target), f"nh3=={floor}"], check=True, timeout=300
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(REPO)])}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.metadata as m, nh3; print(m.version('nh3'), nh3.__file__)",
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=60,
    )
    version, location = probe.stdout.split()
    assert version == floor and location.startswith(str(target))
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SANITISER_TESTS],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-4000:]
    assert " passed" in ran.stdout and " failed" not in ran.stdout
