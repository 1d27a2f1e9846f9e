"""Shared fixtures: where the repository, the events and the shared corpus are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
SEED_POST = REPO / "examples" / "posts" / "000_d87f2d6de0cb2939.md"


def load_event(name: str) -> dict[str, Any]:
    """An events/*.json payload: the same file `sam local invoke -e` takes."""
    payload: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return payload


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus, read in place; tests using it skip where it is absent."""
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"the shared corpus is absent ({SHARED_CORPUS}): a fresh clone has none")
    return SHARED_CORPUS


def corpus_posts() -> list[Path]:
    """Every post file of the shared corpus (empty where it is absent)."""
    if not SHARED_CORPUS.is_dir():
        return []
    return sorted(p for p in SHARED_CORPUS.rglob("*.md") if p.name != "README.md")


@pytest.fixture(autouse=True)
def fresh_metrics() -> None:
    """Powertools Metrics is a process-wide singleton: tests that call the package directly
    (not through a decorated handler, which flushes) must not leak metrics into later tests."""
    from blogpub.observability import metrics

    metrics.clear_metrics()
