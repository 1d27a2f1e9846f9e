"""cmark-gfm's Markdown -> HTML through cmarkgfm's C bindings, with its memory given back.

cmarkgfm's ``markdown_to_html_with_extensions`` (2025.10.22, its newest release) frees the
parser but neither the document tree it parsed nor the HTML string it rendered: about
twenty times the Markdown's size stays allocated per call (83 KB for a 4 KB post), so a
warm function grows with every Markdown post it renders until Lambda stops it for memory.
``markdown_to_html`` here makes the same calls in the same order and then frees both: the
tree with cmark's ``cmark_node_free``, the string with the allocator that made it (cmark's
default one, which the parser uses). cmarkgfm's cffi module does not declare those two, so
they are reached through ctypes in the same shared object.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

# cmark-gfm registers its extensions on first use behind a plain static flag, and cffi lets
# go of the GIL for the call: two threads that render first at once both register, and
# cmark aborts the process ("flag initialization error in cmark_register_node_flag"). The
# local stack runs invocations in threads, so the registration is made once, under a lock.
_REGISTRATION = threading.Lock()
_REGISTERED = threading.Event()


def markdown_to_html(markdown: str, options: int, extensions: Sequence[str]) -> str:
    """cmarkgfm's ``markdown_to_html_with_extensions(markdown, options, extensions)``: the
    same HTML, with nothing left allocated afterwards."""
    from cmarkgfm import _cmark

    lib, ffi = _cmark.lib, _cmark.ffi
    _register_extensions()
    free_node, free_string = _releasers()
    found = _extensions(tuple(extensions))
    parser = lib.cmark_parser_new(options)
    try:
        for extension in found:
            lib.cmark_parser_attach_syntax_extension(parser, extension)
        encoded = markdown.encode("utf-8")
        lib.cmark_parser_feed(parser, encoded, len(encoded))
        root = lib.cmark_parser_finish(parser)  # the caller's to free (cmark.h)
        try:
            if lib.cmark_node_get_type(root) == lib.CMARK_NODE_NONE:
                raise ValueError("cmark-gfm could not parse the Markdown")
            rendered = lib.cmark_render_html(
                root, options, lib.cmark_parser_get_syntax_extensions(parser)
            )
            try:
                html_text: str = ffi.string(rendered).decode("utf-8")
            finally:
                free_string(_address(ffi, rendered))
        finally:
            free_node(_address(ffi, root))
    finally:
        lib.cmark_parser_free(parser)
    return html_text


@cache
def _extensions(names: tuple[str, ...]) -> list[Any]:
    """cmark-gfm's registered extensions of these names (found once: the registry keeps
    them for the life of the process)."""
    from cmarkgfm import _cmark

    found = []
    for name in names:
        extension = _cmark.lib.cmark_find_syntax_extension(name.encode("utf-8"))
        if extension == _cmark.ffi.NULL:
            raise ValueError(f"cmark-gfm has no extension named {name!r}")
        found.append(extension)
    return found


def _address(ffi: Any, pointer: Any) -> int:
    return int(ffi.cast("uintptr_t", pointer))


@cache
def _releasers() -> tuple[Callable[[int], None], Callable[[int], None]]:
    """cmark's ``cmark_node_free`` and its default allocator's ``free``, from the shared
    object cmarkgfm loaded (the same library instance: the same allocator)."""
    import ctypes

    from cmarkgfm import _cmark

    class _Allocator(ctypes.Structure):  # cmark_mem, cmark.h
        _fields_ = [
            ("calloc", ctypes.c_void_p),
            ("realloc", ctypes.c_void_p),
            ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
        ]

    library = ctypes.CDLL(_cmark.__file__)
    free_node = library.cmark_node_free
    free_node.argtypes, free_node.restype = [ctypes.c_void_p], None
    default_allocator = library.cmark_get_default_mem_allocator
    default_allocator.argtypes, default_allocator.restype = [], ctypes.POINTER(_Allocator)
    free_string = default_allocator().contents.free
    return free_node, free_string


def _register_extensions() -> None:
    """cmark-gfm's core extensions registered, once per process, whatever the threads."""
    if _REGISTERED.is_set():
        return
    from cmarkgfm.cmark import core_extensions_ensure_registered

    with _REGISTRATION:
        if not _REGISTERED.is_set():
            core_extensions_ensure_registered()
            _REGISTERED.set()
