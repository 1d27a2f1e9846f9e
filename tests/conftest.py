"""Shared fixtures: where the repository, the events and the shared corpus are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from blogpub.models import Post

    from tests.integration.harness import Pipeline

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
SEED_POST = REPO / "examples" / "posts" / "000_d87f2d6de0cb2939.md"


def fresh_interpreter(program: str, extra_env: dict[str, str], path: list[str]) -> Any:
    """What ``program`` printed last, as JSON, run in a fresh interpreter with ``path`` as
    its PYTHONPATH and none of this process's Lambda, AWS, Powertools, X-Ray or Python
    variables (only ``extra_env`` says which of them it runs under)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "AWS_", "LAMBDA_", "_X_AMZN", "PYTHON"))
    }
    env |= {"PYTHONPATH": os.pathsep.join(path), "AWS_DEFAULT_REGION": "us-east-1"} | extra_env
    result = subprocess.run(
        [sys.executable, "-c", program],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def make_post(**overrides: object) -> Post:
    """A Post as the reader makes it, with plain defaults and the given fields."""
    from blogpub.models import Post

    fields: dict[str, object] = {
        "source_key": "_posts/a.md",
        "name": "a",
        "title": "A post",
        "date": datetime(2022, 2, 5, 11, 13, 23, tzinfo=UTC),
        "updated": None,
        "categories": (),
        "tags": (),
        "permalink": None,
        "published": True,
        "comments": False,
        "lang": None,
        "excerpt": None,
        "body": "<p>body</p>",
    }
    fields.update(overrides)
    return Post(**fields)  # type: ignore[arg-type]


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


@dataclass(frozen=True)
class CorpusBlog:
    """One blog of the shared corpus, read as Hexo reads a site folder."""

    name: str
    root: Path
    posts_dir: Path

    @property
    def config(self) -> Path | None:
        config = self.root / "_config.yml"
        return config if config.is_file() else None

    def posts(self) -> list[Path]:
        """Hexo's post processor: renderable files below the posts folder, none of whose
        path components starts with ``_`` or ``.``, and no editor temp files (``%``, ``~``)."""
        found = []
        for path in self.posts_dir.rglob("*"):
            relative = path.relative_to(self.posts_dir)
            if (
                path.is_file()
                and path.suffix.lower() in (".md", ".markdown")
                and not any(part.startswith(("_", ".")) for part in relative.parts)
                and not path.name.endswith(("%", "~"))
                and not (self.posts_dir == self.root and path.name == "README.md")
            ):
                found.append(path)
        return sorted(found)

    def source_key(self, post: Path) -> str:
        """The post's key in the source bucket: its path below the posts folder."""
        return "_posts/" + post.relative_to(self.posts_dir).as_posix()


def corpus_blogs() -> list[CorpusBlog]:
    """The seed, the feed posts and each Hexo blog (empty where the corpus is absent).

    A Hexo blog that has a ``source/`` folder takes its posts from ``source/_posts/``; one
    that is only a posts folder (with its ``_config.yml`` beside the posts) takes its own."""
    if not SHARED_CORPUS.is_dir():
        return []
    blogs = [
        CorpusBlog(name, SHARED_CORPUS / name, SHARED_CORPUS / name) for name in ("seed", "feed")
    ]
    for root in sorted(p for p in (SHARED_CORPUS / "hexo").iterdir() if p.is_dir()):
        source = root / "source"
        posts_dir = source / "_posts" if source.is_dir() else root
        blogs.append(CorpusBlog(root.name, root, posts_dir))
    return blogs


def corpus_blog(name: str) -> CorpusBlog:
    return next(blog for blog in corpus_blogs() if blog.name == name)


def corpus_posts() -> list[tuple[CorpusBlog, Path]]:
    """Every post of the shared corpus with the blog it belongs to."""
    return [(blog, post) for blog in corpus_blogs() for post in blog.posts()]


def corpus_post_params() -> list[Any]:
    """``corpus_posts()`` as pytest parameters named ``<blog>/<path below its posts>``."""
    return [
        pytest.param(blog, post, id=f"{blog.name}/{post.relative_to(blog.posts_dir).as_posix()}")
        for blog, post in corpus_posts()
    ]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials and no endpoint override; the environment is restored afterwards."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def pipeline(aws_env: None) -> Iterator[Pipeline]:
    """A fresh in-process AWS (moto) with the pipeline's resources."""
    from moto import mock_aws

    from tests.integration.harness import Pipeline

    with mock_aws():
        yield Pipeline()


@pytest.fixture(autouse=True)
def fresh_metrics() -> None:
    """Powertools Metrics is a process-wide singleton: tests that call the package directly
    (not through a decorated handler, which flushes) must not leak metrics into later tests."""
    from blogpub.observability import metrics

    metrics.clear_metrics()
