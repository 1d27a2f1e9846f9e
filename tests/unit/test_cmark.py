"""Markdown through cmark-gfm: cmarkgfm's HTML, without cmarkgfm's leak.

cmarkgfm's ``markdown_to_html_with_extensions`` never frees the document tree or the HTML
string (about twenty times the Markdown's size a call), so a warm function grew with every
Markdown post it rendered. The leak is native memory, which tracemalloc cannot see: the C
library's own count of the bytes it has handed out (glibc's ``mallinfo2``) measures it.
"""

from __future__ import annotations

import ctypes

import cmarkgfm
import pytest
from blogpub.cmark import markdown_to_html
from blogpub.markup import to_html
from cmarkgfm.cmark import Options

EXTENSIONS = ("table", "strikethrough", "autolink", "tasklist")
OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_HARDBREAKS | Options.CMARK_OPT_SMART
BODIES = [
    "",
    "# Title\n\nSome *emphasis*, **strong**, `code` and a [link](https://example.com).",
    "| a | b |\n|---|:-:|\n| 1 | 2 |\n\n~~gone~~ www.example.com\n\n- [x] done\n- [ ] open",
    '"Quotes" -- dashes... and <span class="x">raw HTML</span>\nline two',
    "```python title\nprint('hi')\n```\n\n    indented code\n\n> quote\n> > nested",
    "中文段落，**（注）**中 and ümlauts \u00a0 and an emoji 🙂\n\n1. one\n2. two",
]
CALLS = 300
# A call leaks about 20 bytes per byte of Markdown: 300 calls on this body leak ~24 MB.
LEAK_PROBE = "A paragraph with *emphasis*, a [link](https://example.com) and `code`.\n\n" * 60


def allocated_bytes() -> int:
    """The bytes the C library's malloc has handed out and not had back."""
    libc = ctypes.CDLL(None)

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost",
            )
        ]  # fmt: skip

    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)  # heap chunks in use + mmap-ed chunks


def growth_over_calls(render: object) -> int:
    assert callable(render)
    render()  # first-call allocations (registration, caches) are not the leak
    before = allocated_bytes()
    for _ in range(CALLS):
        render()
    return allocated_bytes() - before


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("sourcepos", [False, True])
def test_the_html_is_cmarkgfms_own(body: str, sourcepos: bool) -> None:
    options = OPTIONS | (Options.CMARK_OPT_SOURCEPOS if sourcepos else 0)

    ours = markdown_to_html(body, options, EXTENSIONS)

    assert ours == cmarkgfm.markdown_to_html_with_extensions(
        body, options=options, extensions=list(EXTENSIONS)
    )


def test_an_unknown_extension_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="no extension named 'footnotez'"):
        markdown_to_html("text", OPTIONS, ("table", "footnotez"))


def test_rendering_gives_its_memory_back() -> None:
    grown = growth_over_calls(lambda: markdown_to_html(LEAK_PROBE, OPTIONS, EXTENSIONS))

    assert grown < 1_000_000, f"{grown} bytes still allocated after {CALLS} renders"


def test_the_body_pipeline_gives_its_memory_back() -> None:
    grown = growth_over_calls(lambda: to_html(LEAK_PROBE))

    assert grown < 1_000_000, f"{grown} bytes still allocated after {CALLS} renders"


def test_the_measure_sees_cmarkgfms_own_leak() -> None:
    # The control: the same measure over cmarkgfm's function finds the leak the tests above
    # would find in ours (cmarkgfm is pinned in requirements/lock.txt; a release that frees
    # its memory fails this, and blogpub.cmark can then go).
    grown = growth_over_calls(
        lambda: cmarkgfm.markdown_to_html_with_extensions(
            LEAK_PROBE, options=OPTIONS, extensions=list(EXTENSIONS)
        )
    )

    assert grown > 10 * len(LEAK_PROBE) * CALLS
