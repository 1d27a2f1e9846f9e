"""Hexo 7's built-in tags (hexo/lib/plugins/tag/*.ts), one function each, same output shape.

Where Hexo would throw (a post that is not found) the tag degrades and says so instead;
iframes become links unless the site allows privacy-enhanced video embeds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from blogpub.highlight import table_html
from blogpub.tags.markup import (
    asset_url,
    attribute,
    encode_url,
    full_url_for,
    html_tag,
    markdown_block,
    text,
    url_for,
)
from blogpub.tags.model import TagArgumentError, TagCall, TagContext, TagSink

# hexo/lib/plugins/tag/img.ts and link.ts: what counts as a URL argument.
_URL = re.compile(
    r"((([A-Za-z]{3,9}:(?://)?)(?:[-;:&=+$,\w]+@)?[A-Za-z0-9.-]+|(?:www.|[-;:&=+$,\w]+@)"
    r"[A-Za-z0-9.-]+)((?:/[+~%/.\w\-_]*)?\??(?:[-+=&;%@.\w_]*)#?(?:[.!/\\w]*))?)"
)
_META_DOUBLE_QUOTE = r'"?([^"]+)?"?'
_META_SINGLE_QUOTE = r"'?([^']+)?'?"
_NOT_DIGITS = re.compile(r"\D+")


def blockquote(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% blockquote [author[, source]] [link] [source_link_title] %}``."""
    footer = _blockquote_footer(" ".join(call.args))
    footer_html = f"<footer>{footer}</footer>" if footer else ""
    content = markdown_block(call.content, context)
    # Hexo keeps the newline Markdown ends with: the HTML spans lines, as Hexo's does
    content += "\n" if content else ""
    return f"<blockquote>{content}{footer_html}</blockquote>"


_FULL_CITE_WITH_TITLE = re.compile(r"(\S.*)\s+(https?://\S+)\s+(.+)", re.IGNORECASE)
_FULL_CITE = re.compile(r"(\S.*)\s+(https?://\S+)", re.IGNORECASE)
_AUTHOR_TITLE = re.compile(r"([^,]+),\s*([^,]+)")
_LINK_DECORATION = re.compile(r"^https?://|/(index.html?)?$")


def _blockquote_footer(line: str) -> str:
    if not line:
        return ""
    author, source, title = line, "", ""
    if match := _FULL_CITE_WITH_TITLE.search(line):
        author, source, title = match.group(1), match.group(2), match.group(3)
    elif match := _FULL_CITE.search(line):
        author, source = match.group(1), match.group(2)
    elif match := _AUTHOR_TITLE.search(line):
        author, title = match.group(1), match.group(2)
    footer = f"<strong>{text(author)}</strong>" if author else ""
    if source:
        shown = title or _LINK_DECORATION.sub("", source)
        footer += f'<cite><a href="{attribute(source)}">{text(shown)}</a></cite>'
    elif title:
        footer += f"<cite>{text(title)}</cite>"
    return footer


def pullquote(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% pullquote [class] %}``: a blockquote with the classes ``pullquote [class]``."""
    classes = " ".join(("pullquote", *call.args))
    content = markdown_block(call.content, context)
    content += "\n" if content else ""
    return f'<blockquote class="{attribute(classes)}">{content}</blockquote>'


def codeblock(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% codeblock [title] [lang:x] [url] [link text] [line_number:b] [first_line:n]
    [mark:1,3-4] [highlight:b] %}`` as hexo-util's highlight lays it out (wrap on)."""
    switch = next((arg for arg in call.args if arg.startswith("highlight:")), "highlight:true")
    if switch != "highlight:true":
        return f"<pre><code>{attribute(call.content)}</code></pre>"
    options = _code_options([arg for arg in call.args if arg != switch])
    lang = options.lang
    code = call.content
    highlighted = context.highlight(code, lang) if context.highlight else attribute(code)
    lines = highlighted.split("\n")
    numbers = "".join(
        f'<span class="line">{options.first_line + i}</span><br>' for i in range(len(lines))
    )
    gutter = numbers if options.line_number else ""
    code_lines = "".join(
        f'<span class="{_line_class(options.first_line + i, options.mark)}">{line}</span><br>'
        for i, line in enumerate(lines)
    )
    caption = f"<figcaption>{options.caption}</figcaption>" if options.caption else ""
    hold = context.hold_table if context.highlight else None  # (highlighted lines only)
    table = table_html(gutter, f"<pre>{code_lines}</pre>", tbody=hold is not None)
    if hold is not None:
        table = hold(table)
    return f'<figure class="highlight {attribute(lang or "plaintext")}">{caption}{table}</figure>'


def _line_class(number: int, marked: set[int]) -> str:
    return "line marked" if number in marked else "line"


@dataclass
class _CodeOptions:
    lang: str | None = None
    line_number: bool = True  # Hexo's default `highlight.line_number`
    first_line: int = 1
    mark: set[int] = field(default_factory=set)
    caption: str = ""


_CODE_OPTION_KEYS = frozenset(
    {"lang", "line_number", "first_line", "mark", "wrap", "line_threshold", "language_attr"}
)


_CAPTION_URL_TITLE = re.compile(r"(\S[\S\s]*)\s+(https?://\S+)\s+(.+)", re.IGNORECASE)
_CAPTION_URL = re.compile(r"(\S[\S\s]*)\s+(https?://\S+)", re.IGNORECASE)
_CAPTION = re.compile(r"\S[\S\s]*")


def _code_options(args: list[str]) -> _CodeOptions:
    """hexo/lib/plugins/tag/code.ts ``parseArgs``: ``key:value`` options, the rest a caption."""
    options = _CodeOptions()
    caption_words = []
    for arg in args:
        key, colon, value = arg.partition(":")
        if not colon or key not in _CODE_OPTION_KEYS:
            caption_words.append(arg)
        elif key == "lang":
            options.lang = value
        elif key == "line_number":
            options.line_number = value == "true"
        elif key == "first_line" and value.strip().lstrip("+-").isdigit():
            options.first_line = int(value)
        elif key == "mark":
            options.mark = _marked_lines(value)
    caption = " ".join(caption_words)
    if match := _CAPTION_URL_TITLE.search(caption):
        options.caption = (
            f"<span>{text(match.group(1))}</span>"
            f'<a href="{attribute(match.group(2))}">{text(match.group(3))}</a>'
        )
    elif match := _CAPTION_URL.search(caption):
        options.caption = (
            f'<span>{text(match.group(1))}</span><a href="{attribute(match.group(2))}">link</a>'
        )
    elif match := _CAPTION.search(caption):
        options.caption = f"<span>{text(match.group(0))}</span>"
    return options


def _marked_lines(value: str) -> set[int]:
    """``mark:1,4-7,10`` -> {1, 4, 5, 6, 7, 10}; a reversed range counts too."""
    marked: set[int] = set()
    for item in value.split(","):
        first, dash, last = item.partition("-")
        if dash and first.isdigit() and last.isdigit():
            low, high = sorted((int(first), int(last)))
            marked.update(range(low, high + 1))
        elif item.isdigit():
            marked.add(int(item))
    return marked


def img(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% img [class names] /path/to/image [width] [height] '"title text" "alt text"' %}``."""
    return _img_tag(list(call.args), context)


def _img_tag(args: list[str], context: TagContext) -> str:
    classes: list[str] = []
    src: str | None = None
    while args:
        item = args.pop(0)
        if item.startswith("/") or _URL.search(item):  # (an asset's URL: no search)
            src = url_for(item, context)
            break
        classes.append(item)
    if src is None:
        raise TagArgumentError("no image path or URL among the arguments")
    width = height = title = alt = None
    if args and not _NOT_DIGITS.search(args[0]):
        width = args.pop(0)
        if args and not _NOT_DIGITS.search(args[0]):
            height = args.pop(0)
    if args:
        meta = " ".join(args)
        title_pattern = _META_DOUBLE_QUOTE if meta.startswith('"') else _META_SINGLE_QUOTE
        alt_pattern = _META_DOUBLE_QUOTE if meta.endswith('"') else _META_SINGLE_QUOTE
        if match := re.search(rf"{title_pattern}\s*{alt_pattern}", meta):
            title, alt = match.group(1), match.group(2)
    attributes = {
        "src": src,
        "class": " ".join(classes),
        "width": width,
        "height": height,
        "title": title,
        "alt": alt,
    }
    return html_tag("img", attributes, None)


def link(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% link text url [external] [title] %}``."""
    words: list[str] = []
    url = ""
    rest: list[str] = []
    for index, item in enumerate(call.args):
        if _URL.search(item):
            url, rest = item, list(call.args[index + 1 :])
            break
        words.append(item)
    external = False
    if rest and rest[0] in ("true", "false"):
        external = rest.pop(0) == "true"
    attributes = {"href": url, "title": " ".join(rest), "target": "_blank" if external else ""}
    return html_tag("a", attributes, text(" ".join(words)))


def iframe(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% iframe url [width] [height] %}``: iframes are not allowed, so a link to the page."""
    if not call.args:
        raise TagArgumentError("an iframe needs a URL")
    src = call.args[0]
    return html_tag("a", {"class": "iframe-link", "href": encode_url(src)}, text(src))


def youtube(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% youtube id [video|playlist] [cookie] %}`` (hexo-tag-embed): a link to the video,
    or, where the site allows it, the youtube-nocookie.com player."""
    if not call.args:
        raise TagArgumentError("youtube needs a video id")
    video_id = call.args[0]
    playlist = len(call.args) > 1 and call.args[1] == "playlist"
    if context.privacy_embeds:
        embed = f"videoseries?list={video_id}" if playlist else video_id
        return _video_frame(f"https://www.youtube-nocookie.com/embed/{embed}")
    page = (
        f"https://www.youtube.com/playlist?list={video_id}"
        if playlist
        else f"https://www.youtube.com/watch?v={video_id}"
    )
    label = "YouTube playlist" if playlist else "YouTube video"
    return _video_card(page, f"{label} {video_id}")


def vimeo(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% vimeo id %}``: a link to the video, or the player with Do Not Track."""
    if not call.args:
        raise TagArgumentError("vimeo needs a video id")
    video_id = call.args[0]
    if context.privacy_embeds:
        return _video_frame(f"https://player.vimeo.com/video/{video_id}?dnt=1")
    return _video_card(f"https://vimeo.com/{video_id}", f"Vimeo video {video_id}")


def _video_card(page: str, label: str) -> str:
    return f'<p class="video-link">{html_tag("a", {"href": encode_url(page)}, text(label))}</p>'


def _video_frame(src: str) -> str:
    frame = html_tag(
        "iframe",
        {"src": encode_url(src), "frameborder": "0", "loading": "lazy", "allowfullscreen": True},
        "",
    )
    return f'<div class="video-container">{frame}</div>'


def post_link(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% post_link slug [title] [escape] %}``; a target not published yet shows as its
    text and is recorded as pending."""
    if not call.args:
        raise TagArgumentError("post_link needs a post")
    args = list(call.args)
    slug, anchor = _target_and_anchor(args.pop(0))
    escape = True
    if args and args[-1] in ("true", "false"):
        escape = args.pop() == "true"
    post = context.resolve_post(slug)
    sink.linked_post(slug, resolved=post is not None)
    if post is None:
        return text(" ".join(args) or slug)
    title = " ".join(args) or post.title or slug
    path = post.url + (f"#{anchor}" if anchor else "")
    shown = text(title) if escape else title
    href = attribute(url_for(path, context))
    return f'<a href="{href}" title="{attribute(post.title or slug)}">{shown}</a>'


def _target_and_anchor(target: str) -> tuple[str, str]:
    """``slug#anchor`` -> (slug, anchor); a target with no or several ``#`` is all slug."""
    slug, _, anchor = target.partition("#") if target.count("#") == 1 else (target, "", "")
    return slug, anchor


def linked_target(name: str, args: Sequence[str]) -> str | None:
    """The post a ``post_link``/``post_path`` tag with these arguments names, as written."""
    if not args:
        return None
    return _target_and_anchor(args[0])[0] if name == "post_link" else args[0]


def asset_candidates(name: str, args: Sequence[str]) -> tuple[str, ...]:
    """The asset folder files an ``asset_*`` tag with these arguments may name: any argument
    of ``asset_img`` (the first one that exists is the image), else the first argument."""
    if name in ("asset_img", "asset_image"):
        return tuple(args)
    return tuple(args[:1])


def post_path(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% post_path slug %}``: the post's URL (empty until the target is published)."""
    if not call.args:
        return ""
    post = context.resolve_post(call.args[0])
    sink.linked_post(call.args[0], resolved=post is not None)
    if post is None:
        return ""
    return attribute(url_for(post.url, context))


def asset_img(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% asset_img [class] slug [width] [height] [title [alt]] %}``: the first argument
    that names a file becomes the asset's URL, then it is Hexo's ``img``."""
    args = list(call.args)
    if not args:
        raise TagArgumentError("asset_img needs a file")
    if context.assets is None:
        # Without the folder's listing, the first argument that looks like a file name
        # (else the first argument) is the asset.
        files = [index for index, item in enumerate(args) if "." in item or "/" in item]
        index = files[0] if files else 0
    else:
        found = [index for index, item in enumerate(args) if item in context.assets]
        if not found:
            named = " ".join(args)
            sink.warn(call, f"{call.name}: none of {named!r} is in the post's asset folder")
            return ""
        index = found[0]
    args[index] = asset_url(args[index], context)
    return _img_tag(args, context)


def _is_missing_asset(call: TagCall, context: TagContext, sink: TagSink) -> bool:
    """Hexo renders an asset_link/asset_path to a file the folder lacks as nothing."""
    if context.assets is None or call.args[0] in context.assets:
        return False
    sink.warn(call, f"{call.name}: {call.args[0]!r} is not in the post's asset folder")
    return True


def asset_link(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% asset_link slug [title] [escape] %}``."""
    if not call.args:
        raise TagArgumentError("asset_link needs a file")
    if _is_missing_asset(call, context, sink):
        return ""
    args = list(call.args)
    slug = args.pop(0)
    escape = True
    if args and args[-1] in ("true", "false"):
        escape = args.pop() == "true"
    title = " ".join(args) or slug
    shown = text(title) if escape else title
    return f'<a href="{attribute(asset_url(slug, context))}" title="{attribute(title)}">{shown}</a>'


def asset_path(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% asset_path slug %}``: the asset's URL."""
    if not call.args or _is_missing_asset(call, context, sink):
        return ""
    return attribute(asset_url(call.args[0], context))


def url_for_tag(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% url_for text path [relative] %}``: a link to a site path."""
    if len(call.args) < 2:
        raise TagArgumentError("url_for needs a text and a path")
    return html_tag("a", {"href": url_for(call.args[1], context)}, text(call.args[0]))


def full_url_for_tag(call: TagCall, context: TagContext, sink: TagSink) -> str:
    """``{% full_url_for text path %}``: a link with the site's full URL."""
    if len(call.args) < 2:
        raise TagArgumentError("full_url_for needs a text and a path")
    return html_tag("a", {"href": full_url_for(call.args[1], context)}, text(call.args[0]))
