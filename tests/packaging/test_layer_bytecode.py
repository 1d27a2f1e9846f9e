"""The layer ships bytecode for the runtime's CPython (issue 17: Lambda's /opt is read-only,
so a layer without .pyc compiles every module from source on each cold start).

``layers/blogpub/compile-bytecode.sh`` is the build's step (layers/blogpub/Makefile); the
bench lays its layer out with the same step (``bench/probes.py: built_layer``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = REPO / "layers" / "blogpub" / "compile-bytecode.sh"
PACKAGE = REPO / "layers" / "blogpub" / "blogpub"
RUNTIME_VERSION = "3.13"  # template.yaml: Runtime: python3.13
# PEP 552: bit 0 = hash-based, bit 1 = check the source; unchecked-hash sets bit 0 only.
UNCHECKED_HASH_FLAGS = 0b01


def copy_package(target: Path) -> Path:
    shutil.copytree(PACKAGE, target / "blogpub", ignore=shutil.ignore_patterns("__pycache__"))
    return target


def compile_layer(layer: Path, version: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), str(layer), version],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


def missing_bytecode(layer: Path, cache_tag: str) -> list[Path]:
    """Modules of ``layer`` without an unchecked-hash .pyc for ``cache_tag``."""
    missing = []
    for source in sorted(layer.rglob("*.py")):
        compiled = source.parent / "__pycache__" / f"{source.stem}.{cache_tag}.pyc"
        header = compiled.read_bytes()[:8] if compiled.is_file() else b""
        if int.from_bytes(header[4:8], "little") != UNCHECKED_HASH_FLAGS:
            missing.append(source.relative_to(layer))
    return missing


def files_and_times(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_the_build_compiles_every_module_with_the_runtimes_python_or_says_it_cannot(
    tmp_path: Path,
) -> None:
    layer = copy_package(tmp_path)
    completed = compile_layer(layer, RUNTIME_VERSION)
    tag = "cpython-" + RUNTIME_VERSION.replace(".", "")
    if "no Python 3.13 found" in completed.stderr:  # a machine without CPython 3.13
        assert not list(layer.rglob("*.pyc"))
        return
    modules = len(list(layer.rglob("*.py")))
    assert modules > 30
    assert completed.stdout.startswith(f"compile-bytecode: {modules} modules compiled by ")
    assert missing_bytecode(layer, tag) == []
    assert {p.name.split(".")[1] for p in layer.rglob("*.pyc")} == {tag}


def test_without_the_runtimes_python_the_layer_ships_sources_and_the_build_says_so(
    tmp_path: Path,
) -> None:
    tools = tmp_path / "bin"  # a PATH with no Python and no uv on it
    tools.mkdir()
    for tool in ("find", "wc"):
        found = shutil.which(tool)
        assert found is not None
        (tools / tool).symlink_to(found)
    layer = copy_package(tmp_path / "layer")
    completed = subprocess.run(
        [shutil.which("bash") or "bash", str(SCRIPT), str(layer), RUNTIME_VERSION],
        env={"PATH": str(tools), "PYENV_ROOT": str(tmp_path / "no-pyenv"), "HOME": "/nonexistent"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "no Python 3.13 found" in completed.stderr
    assert "ships sources only" in completed.stderr
    assert not list(layer.rglob("*.pyc"))


def test_a_named_interpreter_of_another_version_fails_the_build(tmp_path: Path) -> None:
    layer = copy_package(tmp_path)
    completed = subprocess.run(
        ["bash", str(SCRIPT), str(layer), "3.1"],
        env={**os.environ, "LAYER_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert f"LAYER_PYTHON={sys.executable} is not a working Python 3.1" in completed.stderr


def test_the_handlers_import_the_compiled_layer_without_writing_anything(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    import probes

    layer = probes.built_layer(REPO, tmp_path / "layer")
    tag = sys.implementation.cache_tag
    assert missing_bytecode(layer, tag) == []
    before = files_and_times(layer)
    # What a first event imports besides the handler; Python writes a .pyc for any module
    # whose bytecode is missing or stale (the variable that would stop it is unset).
    program = (
        "import app, blogpub.publish, blogpub.indexes, blogpub.render, blogpub.templates, sys; "
        "print(sys.modules['blogpub.publish'].__spec__.cached)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "POWERTOOLS_"))}
    for handler in ("render_post", "build_indexes"):
        env |= probes.LAMBDA_ENVIRONMENT | {
            "PYTHONPATH": os.pathsep.join([str(REPO / "functions" / handler), str(layer)])
        }
        completed = subprocess.run(
            [sys.executable, "-c", program],
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            check=True,
        )
        cached = Path(completed.stdout.strip())
        assert cached == layer / "blogpub" / "__pycache__" / f"publish.{tag}.pyc"
    assert files_and_times(layer) == before
