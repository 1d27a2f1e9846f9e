"""The shapes tag plugins work with: what a post gives them, what they give back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Hexo's tag placeholder is an HTML comment: one that starts a line is an HTML block to the
# end of that line (in marked as in cmark), so the next line starts a new paragraph.
PLACEHOLDER_COMMENT = "<!--tag-->"


def may_hold_tags(text: str) -> bool:
    """Whether Nunjucks would see anything in ``text``: a ``{%``, a ``{{`` or a ``{#``.
    Without one, expanding the tags gives the text back as it is (code and all)."""
    return "{%" in text or "{{" in text or "{#" in text


@dataclass(frozen=True)
class ResolvedPost:
    """A post that `post_link`/`post_path` point at: its title and its decoded site path
    (e.g. "/2022/02/05/hello/", without the site root, as `urls.post_url` gives it)."""

    title: str
    url: str


def _unresolved(_target: str) -> ResolvedPost | None:
    return None


@dataclass(frozen=True)
class TagContext:
    """What the tags of one post need; the caller builds it from the settings and the post.

    ``render_markdown`` renders a block tag's inner Markdown (Hexo's ``renderSync``).
    ``post_url`` is the post's decoded site path, below which its asset folder is served.
    ``resolve_post`` maps a ``post_link``/``post_path`` target (a post's name or key, as
    written) to the post, or ``None`` while it is not published.
    ``highlight(code, lang)`` returns the code as HTML, one line per input line with every
    element closed on its line; ``None`` escapes the code plainly.
    ``assets`` names the files of the post's asset folder when the caller knows them: an
    ``asset_*`` tag naming another file then renders nothing, as in Hexo, with a warning.
    ``hold_table(table_html)``, where given, holds a highlighted block's table (with the
    ``tbody`` the HTML parser adds) out of the sanitiser and returns the placeholder that
    stands for it in its figure, after the caption (``highlight.HeldOut``)."""

    render_markdown: Callable[[str], str]
    root: str = "/"
    url: str = "http://example.com"
    post_url: str = "/"
    resolve_post: Callable[[str], ResolvedPost | None] = _unresolved
    highlight: Callable[[str, str | None], str] | None = None
    privacy_embeds: bool = False
    assets: frozenset[str] | None = None
    hold_table: Callable[[str], str] | None = None


@dataclass(frozen=True)
class TagWarning:
    """A tag that could not be expanded as written: it is shown as text, or left out where
    Hexo leaves it out, and the post still publishes. ``last_line`` ends a warning about
    several lines (a tag whose arguments run on to a later ``%}``)."""

    name: str
    line: int
    message: str
    last_line: int | None = None


@dataclass(frozen=True)
class TagResult:
    """The body with its tags expanded, what went wrong, every post it links to
    (``post_link``/``post_path`` targets as written, each once, in body order: the
    reverse links to keep) and those of them that do not resolve yet."""

    text: str
    warnings: tuple[TagWarning, ...] = ()
    pending_links: tuple[str, ...] = ()
    linked_posts: tuple[str, ...] = ()


@dataclass(frozen=True)
class TagCall:
    """One tag as written: its name, its arguments split as Hexo splits them, and for a
    paired tag its inner content (nested tags already expanded, as Nunjucks does)."""

    name: str
    args: tuple[str, ...]
    line: int
    content: str = ""


class TagSink(Protocol):
    """What a tag function may report besides its HTML."""

    def warn(self, call: TagCall, message: str) -> None: ...

    def linked_post(self, target: str, *, resolved: bool) -> None: ...


TagFunction = Callable[[TagCall, TagContext, TagSink], str]


class TagArgumentError(ValueError):
    """A known tag whose arguments cannot make its HTML; the tag is shown as text."""
