"""The theme's Jinja environment: one set of options, over the layer's precompiled templates.

Jinja compiles a template (lex, parse, generate Python, compile it) on its first use in a
process, so a cold start paid that for every page kind it drew. The layer build
(``layers/blogpub/Makefile``) runs ``compile_theme`` with the Jinja the layer ships and puts
the generated modules in ``theme_compiled/``; a process then only imports them. Where they
are absent (a checkout, the tests, the local stack) the sources in ``theme/`` are compiled
as before. This module imports nothing but Jinja, so the build can run it on any machine.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import jinja2

THEME_DIR = Path(__file__).parent / "theme"
COMPILED_THEME_DIR = Path(__file__).parent / "theme_compiled"
TEMPLATE_SUFFIXES = (".html", ".xml", ".txt")


def _options() -> dict[str, object]:
    # autoescape=True (not select_autoescape): XML and text templates are escaped too.
    # auto_reload=False: the theme's files do not change under a running process, so each
    # render need not stat its template's source (Jinja's default does).
    return {
        "autoescape": True,
        "auto_reload": False,
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
    }


def source_environment() -> jinja2.Environment:
    """The theme compiled from its sources on first use of each template."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(THEME_DIR), **_options())  # type: ignore[arg-type]


def compiled_environment(compiled: Path, *, fallback: bool = True) -> jinja2.Environment:
    """The theme from modules ``compile_theme`` wrote to ``compiled``; with ``fallback``, a
    template missing there is compiled from its source."""
    loader: jinja2.BaseLoader = jinja2.ModuleLoader(str(compiled))
    if fallback:
        loader = jinja2.ChoiceLoader([loader, jinja2.FileSystemLoader(THEME_DIR)])
    return jinja2.Environment(loader=loader, **_options())  # type: ignore[arg-type]


@cache
def theme_environment() -> jinja2.Environment:
    """The process's environment: precompiled where the layer build wrote the modules."""
    if COMPILED_THEME_DIR.is_dir():
        return compiled_environment(COMPILED_THEME_DIR)
    return source_environment()


def template_names() -> list[str]:
    """Every template of the theme (stylesheets and labels are read, not rendered)."""
    return sorted(p.name for p in THEME_DIR.iterdir() if p.suffix in TEMPLATE_SUFFIXES)


def compile_theme(target: Path) -> list[str]:
    """Write every template as a Python module into ``target`` (the layer build's step)."""
    target.mkdir(parents=True, exist_ok=True)
    names = template_names()
    source_environment().compile_templates(
        str(target), zip=None, filter_func=names.__contains__, ignore_errors=False
    )
    return names


if __name__ == "__main__":
    print(f"compiled {len(compile_theme(Path(sys.argv[1])))} templates into {sys.argv[1]}")
