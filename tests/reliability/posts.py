"""Original Hexo posts for the reliability tests, of the corpus' shapes."""

from __future__ import annotations

from collections.abc import Sequence


def hexo_post(
    title: str,
    date: str = "2024-03-05 10:20:30",
    *,
    categories: Sequence[str] = ("Notes",),
    tags: Sequence[str] = (),
    body: str = "A paragraph of text.\n\n<!-- more -->\n\nThe rest of the post.\n",
    extra: str = "",
) -> str:
    """A post file: YAML front-matter between --- lines, then a Markdown body."""
    lines = ["---", f"title: {title!r}", f"date: {date}"]
    if categories:
        lines.append("categories:")
        lines += [f"  - {name!r}" for name in categories]
    if tags:
        lines.append(f"tags: [{', '.join(repr(tag) for tag in tags)}]")
    if extra:
        lines.append(extra.rstrip("\n"))
    lines.append("---")
    return "\n".join(lines) + "\n\n" + body
