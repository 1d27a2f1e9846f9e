"""The versions we ship and test are the lock's: the layer's pins, the venv's moto and nh3."""

from __future__ import annotations

import sys
from importlib.metadata import version

from tests.conftest import REPO

# scripts/ is a folder of scripts, not a package.
sys.path.insert(0, str(REPO / "scripts"))

import pin_layer

LOCK = REPO / "requirements" / "lock.txt"
LAYER_REQUIREMENTS = REPO / "layers" / "blogpub" / "requirements.txt"
PYPROJECT = REPO / "pyproject.toml"


def test_the_layer_pins_every_runtime_dependency_to_the_locked_version() -> None:
    expected = pin_layer.layer_requirements(LOCK.read_text("utf-8"), PYPROJECT.read_text("utf-8"))
    assert LAYER_REQUIREMENTS.read_text("utf-8") == expected, "run `make upgrade`"


def test_the_layer_ships_no_boto3_and_pins_exactly() -> None:
    lines = [
        line
        for line in LAYER_REQUIREMENTS.read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert lines, "the layer has runtime dependencies"
    assert all("==" in line and "<" not in line and ">" not in line for line in lines)
    assert not any(
        pin_layer.normalised(line.split("[")[0].split("=")[0]) == "boto3" for line in lines
    )


def test_the_lock_reads_as_name_and_version() -> None:
    versions = pin_layer.locked_versions("boto3==1.2.3\n    # via x\nPyYAML==6.0.4 \\\n")
    assert versions == {"boto3": "1.2.3", "pyyaml": "6.0.4"}


def test_the_venv_runs_the_locked_versions() -> None:
    locked = pin_layer.locked_versions(LOCK.read_text("utf-8"))
    for name in ("moto", "nh3", "boto3", "jinja2", "cmarkgfm", "aws-lambda-powertools"):
        assert version(name) == locked[name], f"{name}: run `make install`"
