"""Pin the layer's requirements.txt to the lock's versions of pyproject's runtime dependencies.

Usage: python scripts/pin_layer.py requirements/lock.txt layers/blogpub/requirements.txt
(`make upgrade` runs it after refreshing the lock.)
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The Lambda Python runtime has boto3 (and botocore): the layer does not ship them.
RUNTIME_PROVIDED = frozenset({"boto3"})
HEADER = """\
# Runtime dependencies of the blogpub layer: pyproject.toml's, pinned to requirements/lock.txt
# by `make upgrade` (scripts/pin_layer.py). boto3 comes with the Lambda runtime.
"""
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")


def normalised(name: str) -> str:
    """A distribution name as the lock spells it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock_text: str) -> dict[str, str]:
    """name -> version of every ``name==version`` line of a pip-compile style lock."""
    versions = {}
    for line in lock_text.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            versions[normalised(match[1])] = match[2]
    return versions


def runtime_dependencies(pyproject_text: str) -> list[tuple[str, str]]:
    """(name, extras) of pyproject's [project] dependencies the layer must ship."""
    found = []
    for requirement in tomllib.loads(pyproject_text)["project"]["dependencies"]:
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise ValueError(f"cannot read the requirement {requirement!r}")
        if normalised(match[1]) not in RUNTIME_PROVIDED:
            found.append((match[1], match[2] or ""))
    return found


def layer_requirements(lock_text: str, pyproject_text: str) -> str:
    """The layer's requirements.txt: each runtime dependency at its locked version."""
    versions = locked_versions(lock_text)
    lines = []
    for name, extras in runtime_dependencies(pyproject_text):
        version = versions.get(normalised(name))
        if version is None:
            raise KeyError(f"{name} is not in the lock: run `make upgrade`")
        lines.append(f"{name}{extras}=={version}")
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    lock, output = (Path(arg) for arg in argv)
    text = layer_requirements(lock.read_text("utf-8"), (REPO / "pyproject.toml").read_text("utf-8"))
    output.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
