"""The theme precompiled by the layer build draws the same pages as its sources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from blogpub.reader import read_post
from blogpub.render import Renderer
from blogpub.templates import (
    THEME_DIR,
    compile_theme,
    compiled_environment,
    source_environment,
    template_names,
)

from tests.golden.test_golden import EXAMPLES, expected_files, golden_settings, source_key

LAYER = Path(__file__).resolve().parents[2] / "layers" / "blogpub"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("theme_compiled")
    compile_theme(target)
    return target


def test_every_template_of_the_theme_is_compiled_into_its_own_module(compiled: Path) -> None:
    names = template_names()
    assert {"base.html", "post.html", "feed.xml", "robots.txt"} <= set(names)
    assert len(list(compiled.glob("tmpl_*.py"))) == len(names)
    only_modules = compiled_environment(compiled, fallback=False)
    for name in names:
        assert only_modules.get_template(name).name == name


def test_the_compiled_theme_draws_the_golden_site_byte_for_byte(compiled: Path) -> None:
    settings = golden_settings()
    renderer = Renderer(settings, compiled_environment(compiled, fallback=False))
    posts = [
        renderer.render_post(read_post(path.read_bytes(), source_key(path), settings))
        for path in sorted(EXAMPLES.rglob("*.md"))
    ]
    pages = {page.object_key: page.body for page in renderer.site(posts)}
    expected = expected_files()
    assert len(pages) > 100
    assert pages.keys() == expected.keys()
    assert [key for key, body in pages.items() if expected[key] != body] == []


def test_a_compiled_module_is_what_jinja_makes_of_the_current_source(compiled: Path) -> None:
    environment = source_environment()
    for name in template_names():
        source = (THEME_DIR / name).read_text(encoding="utf-8")
        code = environment.compile(source, name, name, raw=True, defer_init=True)
        (module,) = [p for p in compiled.glob("tmpl_*.py") if f"name = {name!r}" in p.read_text()]
        assert module.read_text(encoding="utf-8") == code


def test_the_layer_build_step_compiles_the_theme_in_a_fresh_interpreter(tmp_path: Path) -> None:
    target = tmp_path / "blogpub" / "theme_compiled"
    completed = subprocess.run(
        [sys.executable, "-m", "blogpub.templates", str(target)],
        env={"PYTHONPATH": str(LAYER)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.startswith(f"compiled {len(template_names())} templates")
    assert len(list(target.glob("tmpl_*.py"))) == len(template_names())


def test_the_bench_runs_a_layer_laid_out_as_its_build_lays_it_out(tmp_path: Path) -> None:
    sys.path.insert(0, str(LAYER.parents[1] / "bench"))
    import probes

    layer = probes.built_layer(LAYER.parents[1], tmp_path / "now")
    assert len(list((layer / "blogpub" / "theme_compiled").glob("tmpl_*.py"))) == len(
        template_names()
    )
    # Bytecode for this interpreter, as the build makes it for the runtime's (compile-bytecode.sh).
    modules = list((layer / "blogpub").rglob("*.py"))
    compiled = list(layer.rglob(f"__pycache__/*.{sys.implementation.cache_tag}.pyc"))
    assert len(compiled) == len(modules) > 30
    older = tmp_path / "older" / "layers" / "blogpub" / "blogpub"
    older.mkdir(parents=True)
    (older / "__init__.py").write_text("", encoding="utf-8")
    old_layer = probes.built_layer(tmp_path / "older", tmp_path / "old")
    assert sorted(p.name for p in (old_layer / "blogpub").iterdir()) == ["__init__.py"]
