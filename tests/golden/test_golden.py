"""Golden output: the seed post page and the whole examples site, byte for byte.

A change to the theme, the URL rules or the markup shows up here as a readable diff.
Regenerate after an intended change with ``BLOGPUB_UPDATE_GOLDEN=1 pytest tests/golden``
and review the diff of tests/golden/expected/ before committing it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from blogpub.models import Page
from blogpub.reader import read_post
from blogpub.render import Renderer
from blogpub.settings import Settings, load_settings

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EXAMPLES = REPO / "examples" / "posts"
SEED = EXAMPLES / "000_d87f2d6de0cb2939.md"
EXPECTED = HERE / "expected"
UPDATE = os.environ.get("BLOGPUB_UPDATE_GOLDEN") == "1"
MAX_DIFF_LINES = 200


def golden_settings() -> Settings:
    return load_settings((HERE / "_config.yml").read_bytes())


def source_key(path: Path) -> str:
    return "_posts/" + path.relative_to(EXAMPLES).as_posix()


def site_pages() -> list[Page]:
    settings = golden_settings()
    renderer = Renderer(settings)
    posts = [
        renderer.render_post(read_post(path.read_bytes(), source_key(path), settings))
        for path in sorted(EXAMPLES.rglob("*.md"))
    ]
    return renderer.site(posts)


def expected_files() -> dict[str, bytes]:
    return {
        path.relative_to(EXPECTED).as_posix(): path.read_bytes()
        for path in sorted(EXPECTED.rglob("*"))
        if path.is_file()
    }


def write_expected(pages: list[Page]) -> None:
    wanted = {page.object_key: page.body for page in pages}
    for key in set(expected_files()) - set(wanted):
        (EXPECTED / key).unlink()
    for key, body in wanted.items():
        target = EXPECTED / key
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != body:
            target.write_bytes(body)


def diff(key: str, expected: bytes, actual: bytes) -> str:
    lines = list(
        difflib.unified_diff(
            expected.decode("utf-8").splitlines(keepends=True),
            actual.decode("utf-8").splitlines(keepends=True),
            fromfile=f"expected/{key}",
            tofile=f"rendered/{key}",
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines\n"]
    return "".join(lines)


def assert_matches(pages: list[Page], *, every_file: bool) -> None:
    expected = expected_files()
    problems = []
    rendered = {page.object_key: page.body for page in pages}
    for key, body in sorted(rendered.items()):
        if key not in expected:
            problems.append(f"new page, no expected file: expected/{key}")
        elif expected[key] != body:
            problems.append(diff(key, expected[key], body))
    if every_file:
        problems += [
            f"expected file no page renders: expected/{key}"
            for key in sorted(set(expected) - set(rendered))
        ]
    if problems:
        pytest.fail(
            "rendered output differs from tests/golden/expected "
            "(BLOGPUB_UPDATE_GOLDEN=1 pytest tests/golden regenerates it):\n\n"
            + "\n".join(problems),
            pytrace=False,
        )


@pytest.fixture(scope="module")
def examples_site() -> list[Page]:
    pages = site_pages()
    if UPDATE:
        write_expected(pages)
    return pages


def test_seed_post_page(examples_site: list[Page]) -> None:
    settings = golden_settings()
    post = read_post(SEED.read_bytes(), source_key(SEED), settings)
    page = Renderer(settings).render_post(post).page
    assert page.object_key == "2022/02/05/000_d87f2d6de0cb2939/index.html"
    assert_matches([page], every_file=False)


def test_examples_site(examples_site: list[Page]) -> None:
    assert len(examples_site) > 100
    assert_matches(examples_site, every_file=True)
