"""The common tags of the NexT, Butterfly and Fluid themes, as plain HTML without script.

NexT's markup is the reference (its scripts/tags/*.js); tabs show every pane one after
another, each under its title, and spoilers are ``<details>``. Icons (Font Awesome ``<i>``)
are left out: the theme has no icon font."""

from __future__ import annotations

import re

from blogpub.tags.markup import (
    attribute,
    encode_url,
    html_tag,
    markdown_block,
    markdown_inline,
    text,
    url_for,
)
from blogpub.tags.model import TagArgumentError, TagCall, TagContext, TagSink

# NexT's note styles, then Butterfly's colours and looks (Fluid's names are NexT's).
_NOTE_CLASSES = frozenset(
    {
        "default", "primary", "info", "success", "warning", "danger", "no-icon",
        "blue", "pink", "red", "purple", "orange", "green",
        "simple", "modern", "flat", "disabled", "icon-padding",
    }
)  # fmt: skip


def note(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% note [class] [no-icon] [summary] %}``: a div, or with a summary a details."""
    args = list(call.args)
    classes: list[str] = []
    # Butterfly puts an icon ('fas fa-bullhorn') among the classes; it is dropped.
    while args and (args[0] in _NOTE_CLASSES or "fa-" in args[0]):
        item = args.pop(0)
        if item in _NOTE_CLASSES:
            classes.append(item)
    class_name = attribute(" ".join(("note", *classes)))
    content = markdown_block(call.content, context)
    if not args:
        # NexT keeps the newline Markdown ends with: the HTML spans lines, as Hexo's does
        return f'<div class="{class_name}">{_line_ended(content)}</div>'
    summary = markdown_inline(" ".join(args), context)
    return f'<details class="{class_name}"><summary>{summary}</summary>\n{content}\n</details>'


def _line_ended(html: str) -> str:
    return html + "\n" if html else html


_TAB_PANE = re.compile(r"<!--\s*tab (.*?)\s*-->\n([\w\W]*?)<!--\s*endtab\s*-->")


def tabs(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% tabs name[,active] %}`` with ``<!-- tab caption[@icon] -->…<!-- endtab -->`` panes:
    every pane shown, in order, each a section under its caption."""
    name = " ".join(call.args).split(",")[0].strip()
    if not name:
        sink.warn(call, "tabs needs a unique name")
    tab_id = name.lower().replace(" ", "-")
    sections = []
    for number, pane in enumerate(_TAB_PANE.finditer(call.content), start=1):
        caption = pane.group(1).split("@")[0].strip()
        heading = markdown_inline(caption, context) if caption else text(f"{name} {number}")
        body = markdown_block(pane.group(2), context)
        pane_id = attribute(f"{tab_id}-{number}")
        sections.append(
            f'<section class="tab-pane" id="{pane_id}">'
            f'<h4 class="tab-title">{heading}</h4>{body}</section>'
        )
    return f'<div class="tabs" id="{attribute(tab_id)}">{"".join(sections)}</div>'


def label(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """NexT/Fluid ``{% label class@text %}``; Butterfly ``{% label text [colour] %}``."""
    joined = " ".join(call.args)
    if "@" in joined:
        classes, _, words = joined.partition("@")
        classes = classes.strip() or "default"
    elif call.args:
        words, classes = call.args[0], (call.args[1] if len(call.args) > 1 else "default")
    else:
        raise TagArgumentError("a label needs its text")
    return f'<mark class="label {attribute(classes)}">{text(words.strip())}</mark>'


def button(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% button url, text[, icon[, title]] %}`` (NexT; Butterfly's and Fluid's ``btn``
    take the same url and text first)."""
    parts = [part.strip() for part in " ".join(call.args).split(",")]
    url = parts[0]
    if not url:
        raise TagArgumentError("a button needs a URL")
    words = parts[1] if len(parts) > 1 else ""
    title = parts[3] if len(parts) > 3 else None
    return html_tag(
        "a",
        {"class": "btn", "href": url_for(url, context), "title": title or None},
        text(words or url),
    )


def spoiler(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% spoiler [title] %}…{% endspoiler %}`` (or ``{% spoiler text %}`` inline): closed
    ``<details>`` that the reader opens."""
    if not call.content:
        hidden = text(" ".join(call.args))
        return f'<details class="spoiler"><summary>Spoiler</summary>{hidden}</details>'
    title = " ".join(call.args) or "Spoiler"
    return (
        f'<details class="spoiler"><summary>{markdown_inline(title, context)}</summary>'
        f"{markdown_block(call.content, context)}</details>"
    )


def hide_toggle(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """Butterfly's ``{% hideToggle display[,bg,colour] %}…{% endhideToggle %}`` (and
    ``hideBlock``): the same closed ``<details>``, its first argument the summary."""
    title = " ".join(call.args).split(",")[0].strip() or "Show"
    return (
        f'<details class="spoiler"><summary>{text(title)}</summary>'
        f"{markdown_block(call.content, context)}</details>"
    )


def centerquote(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """NexT's ``{% centerquote %}…{% endcenterquote %}`` (``cq``)."""
    content = markdown_block(call.content, context)
    return f'<blockquote class="blockquote-center">{content}</blockquote>'


# NexT's group-pictures.js: pictures per row for "<count>-<layout>".
_GROUP_LAYOUTS: dict[str, tuple[int, ...]] = {
    "2-1": (1, 1), "2-2": (2,),
    "3-1": (1, 2), "3-2": (2, 1), "3-3": (3,),
    "4-1": (1, 2, 1), "4-2": (1, 3), "4-3": (2, 2), "4-4": (3, 1),
    "5-1": (1, 2, 2), "5-2": (2, 1, 2), "5-3": (2, 3), "5-4": (3, 2),
    "6-1": (1, 2, 3), "6-2": (1, 3, 2), "6-3": (2, 1, 3), "6-4": (2, 2, 2), "6-5": (3, 3),
    "7-1": (1, 2, 2, 2), "7-2": (1, 3, 3), "7-3": (2, 2, 3), "7-4": (2, 3, 2), "7-5": (3, 2, 2),
    "8-1": (1, 2, 2, 3), "8-2": (1, 2, 3, 2), "8-3": (1, 3, 2, 2), "8-4": (2, 2, 2, 2),
    "8-5": (2, 3, 3), "8-6": (3, 2, 3), "8-7": (3, 3, 2),
    "9-1": (1, 2, 3, 3), "9-2": (1, 3, 2, 3), "9-3": (2, 2, 2, 3), "9-4": (2, 2, 3, 2),
    "9-5": (2, 3, 2, 2), "9-6": (3, 2, 2, 2), "9-7": (3, 3, 3),
    "10-1": (1, 3, 3, 3), "10-2": (2, 2, 3, 3), "10-3": (2, 3, 2, 3), "10-4": (2, 3, 3, 2),
    "10-5": (3, 2, 2, 3), "10-6": (3, 2, 3, 2), "10-7": (3, 3, 2, 2),
}  # fmt: skip
_PICTURE = re.compile(r"(<a[^>]*>(?:(?!</a)[\s\S])+</a>)|(<img[^>]+>)")


def grouppicture(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """NexT's ``{% grouppicture count-layout %}`` (``gp``): the pictures in rows."""
    pictures = [
        match.group(0) for match in _PICTURE.finditer(markdown_block(call.content, context))
    ]
    rule = _GROUP_LAYOUTS.get(call.args[0] if call.args else "")
    row_sizes = rule or tuple(3 for _ in range(0, len(pictures), 3))
    rows = []
    for size in row_sizes:
        row, pictures = pictures[:size], pictures[size:]
        columns = "".join(f'<div class="group-picture-column">{picture}</div>' for picture in row)
        rows.append(f'<div class="group-picture-row">{columns}</div>')
    return f'<div class="group-picture">{"".join(rows)}</div>'


def mermaid(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """NexT's ``{% mermaid type %}…{% endmermaid %}``: the diagram source, shown as code."""
    source = "\n".join((" ".join(call.args), call.content)).strip("\n")
    return f'<pre class="mermaid"><code class="language-mermaid">{attribute(source)}</code></pre>'


def gist(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% gist id [file] %}``: a link to the gist (its embed is a script)."""
    if not call.args:
        raise TagArgumentError("gist needs an id")
    gist_id = call.args[0]
    url = f"https://gist.github.com/{gist_id}"
    label = f"gist {gist_id}"
    if len(call.args) > 1:
        url += "#file-" + re.sub(r"[^\w-]", "-", call.args[1]).lower()
        label += f" ({call.args[1]})"
    return html_tag("a", {"class": "gist-link", "href": encode_url(url)}, text(label))


_METING_PAGES = {
    ("netease", "song"): "https://music.163.com/#/song?id={}",
    ("netease", "playlist"): "https://music.163.com/#/playlist?id={}",
    ("netease", "album"): "https://music.163.com/#/album?id={}",
    ("tencent", "song"): "https://y.qq.com/n/ryqq/songDetail/{}",
    ("tencent", "playlist"): "https://y.qq.com/n/ryqq/playlist/{}",
    ("tencent", "album"): "https://y.qq.com/n/ryqq/albumDetail/{}",
}


def meting(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """hexo-tag-aplayer's ``{% meting id server type %}``: a link to the music page (the
    player is a script); a server without a known page shows as text."""
    if len(call.args) < 3:
        raise TagArgumentError("meting needs an id, a server and a type")
    music_id, server, kind = call.args[:3]
    label = text(f"♪ {server} {kind} {music_id}")
    page = _METING_PAGES.get((server, kind))
    if page is None:
        return f'<span class="music-link">{label}</span>'
    return html_tag("a", {"class": "music-link", "href": encode_url(page.format(music_id))}, label)
