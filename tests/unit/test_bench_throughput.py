"""bench/throughput.py: the base commit's layer is the one measured beside this tree's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

# bench/ is a folder of scripts, not a package.
sys.path.insert(0, str(REPO / "bench"))

import throughput


def test_the_base_layer_is_the_base_commit_s_package(tmp_path: Path) -> None:
    known = subprocess.run(
        ["git", "cat-file", "-e", f"{throughput.BASE_COMMIT}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    if known.returncode != 0:
        pytest.skip(f"this checkout lacks commit {throughput.BASE_COMMIT}")
    layer = throughput.base_layer(tmp_path)
    assert layer is not None
    config = (layer / "blogpub" / "config.py").read_text(encoding="utf-8")
    # the posts prefix of 8cf99ee, before Hexo's _posts/; the bench keys posts by it
    assert 'DEFAULT_POSTS_PREFIX = "posts/"' in config
    assert not (layer / "blogpub" / "lexing.py").exists()


def test_one_variant_runs_in_its_own_interpreter_on_the_named_layer() -> None:
    if not throughput.CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    figures = throughput._variant(REPO / throughput.LAYER, highlight=False, passes=1)
    assert figures["rendered"] == figures["posts"] > 100
    assert figures["cpu_posts_per_second"] > 0
    assert figures["settled_cpu_posts_per_second"] > 0
