"""`pip install blogpub` with no extras: every handler and the product CLI import, and no moto.

The venv is built once per session from a copy of this checkout's packaged files (an in-tree
build would leave build/ behind, whose stale copies of moved modules a later build ships);
the probe runs outside the repository so nothing here shadows the installed packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

HANDLERS = sorted(REPO.glob("functions/*/app.py"))
# What pyproject.toml packages: the distribution's sources and nothing else.
PACKAGED = ("pyproject.toml", "README.md", "layers/blogpub/blogpub", "cli", "local")
PROBE = """
import importlib.util, json, sys
from pathlib import Path

imported = []
for path in sys.argv[1:]:
    name = "handler_" + Path(path).parent.name
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    imported.append([path, callable(getattr(module, "lambda_handler", None))])
import blogpub_cli.main, blogpub_cli.replay_command, blogpub_cli.status_command
import blogpub_local.invoke_command  # `blogpub invoke` needs no moto
import blogpub_local.stream_poller  # nor `blogpub replay` of a stream batch
print(json.dumps({
    "handlers": imported,
    "moto": importlib.util.find_spec("moto") is not None,
    "werkzeug": importlib.util.find_spec("werkzeug") is not None,
    "blogpub_cli": blogpub_cli.main.__file__,
}))
"""


@pytest.fixture(scope="session")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `pip install .` and nothing else."""
    root = tmp_path_factory.mktemp("bare-venv")
    source = root / "source"
    for name in PACKAGED:
        if (REPO / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(REPO / name, source / name, ignore=ignore)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
        check=True,
        cwd=root,
        timeout=540,
    )
    return python


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL"))}
    environment["AWS_DEFAULT_REGION"] = "us-east-1"
    return subprocess.run(
        [python, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


def test_every_handler_and_the_cli_import_without_moto(bare_venv: Path, tmp_path: Path) -> None:
    assert len(HANDLERS) >= 3
    probe = _run(bare_venv, "-c", PROBE, *map(str, HANDLERS), cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    found: dict[str, Any] = json.loads(probe.stdout.splitlines()[-1])
    assert found["handlers"] == [[str(path), True] for path in HANDLERS]
    assert found["moto"] is False
    assert found["werkzeug"] is False
    # The installed copy, not this checkout's source.
    assert not found["blogpub_cli"].startswith(str(REPO))


def test_the_local_stack_asks_for_the_extra(bare_venv: Path, tmp_path: Path) -> None:
    blogpub = bare_venv.parent / "blogpub"
    posts = REPO / "examples" / "posts"
    ran = _run(blogpub, "local", "run", str(posts), "--out", str(tmp_path / "site"), cwd=tmp_path)
    assert ran.returncode == 2
    assert "the local stack needs `pip install blogpub[local]`" in ran.stderr
    assert not (tmp_path / "site").exists()


def test_the_product_commands_answer_without_the_extra(bare_venv: Path, tmp_path: Path) -> None:
    for command in (["--help"], ["publish", "--help"], ["status", "--help"], ["replay", "--help"]):
        ran = _run(bare_venv.parent / "blogpub", *command, cwd=tmp_path)
        assert ran.returncode == 0, (command, ran.stderr)
