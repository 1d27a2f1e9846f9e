"""Bytes of a Hexo source file -> a validated ``Post``.

Hexo's own reader (hexo/lib/plugins/processor/post.ts, hexo-front-matter, and
``Post.setCategories``) is the specification; where we differ it is said below, and why.
Anything that cannot be a post raises a ``PostError`` subclass naming the file, the key
and the value; nothing else escapes.
"""

from __future__ import annotations

import base64
import json
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

import yaml

from blogpub import keys
from blogpub.dates import parse_date
from blogpub.errors import (
    BlogpubError,
    DateError,
    EncodingError,
    FieldTypeError,
    FrontMatterError,
    KeyTooLongError,
    PermalinkError,
    PostError,
    TooLargeError,
    UnreadableError,
)
from blogpub.markup import xml_safe
from blogpub.models import Post, SourcePage
from blogpub.settings import Settings
from blogpub.urls import permalink_problem, visible_text

if TYPE_CHECKING:
    from frontmatter.default_handlers import YAMLHandler

# Each category node and tag is one membership row written in the post's table
# transaction (DynamoDB allows 100 items per transaction); these keep it small.
MAX_CATEGORY_NODES = 10
MAX_TAGS = 10
MAX_SOURCE_BYTES = 4 * 1024 * 1024
MAX_EXTRA_JSON_BYTES = 64 * 1024  # the post record also carries `extra` to the templates
MAX_EXTRA_NODES = 5_000  # YAML aliases can make a small file expand into a huge value
MAX_EXTRA_DEPTH = 32
MAX_YAML_VALUES = 10_000  # counted with every alias expanded: billion laughs stop here
MAX_NUMBER_CHARACTERS = 64  # past Python's int digit limit a number cannot even be printed
# Each of these is copied into the post record, the feeds and every listing item.
MAX_FIELD_CHARACTERS = {"title": 500, "author": 200, "description": 1000}
MAX_NAME_CHARACTERS = 200  # each category level and tag

DRAFTS_FOLDER = "_drafts/"  # Hexo's source/_drafts: never published

_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0"})

_OPENING_FENCE = re.compile(r"-{3,}[ \t]*(?:\n|$)")
_LEADING_TABS = re.compile(r"\n(\t+)")

_KNOWN_KEYS = frozenset(
    {
        "title",
        "date",
        "updated",
        "categories",
        "category",
        "tags",
        "tag",
        "permalink",
        "published",
        "draft",
        "comments",
        "lang",
        "excerpt",
    }
)


def read_post(
    raw: bytes, source_key: str, settings: Settings, posts_prefix: str = "_posts/"
) -> Post:
    """Read one Hexo source file. Raises a PostError subclass for anything not a post."""
    with _reading(source_key):
        return _read(raw, source_key, settings, posts_prefix)


def read_page(raw: bytes, source_key: str, settings: Settings) -> SourcePage:
    """Read a standalone page (Hexo's page processor). Raises a PostError subclass."""
    with _reading(source_key):
        return _read_page(raw, source_key, settings)


@contextmanager
def _reading(source_key: str) -> Iterator[None]:
    """Errors while reading ``source_key`` name it; any other exception is an unreadable file."""
    try:
        yield
    except PostError as error:
        error.with_source(source_key)
        raise
    except BlogpubError:
        raise
    except Exception as error:
        # Reading is pure: whatever else escapes is a file no rule foresaw, not a retry.
        raise UnreadableError(
            f"the file cannot be read ({type(error).__name__}: {error})", source=source_key
        ) from error


def _check_key_length(source_key: str) -> None:
    if len(source_key.encode("utf-8")) > keys.MAX_SOURCE_KEY_BYTES:
        raise KeyTooLongError(
            f"the object key is {len(source_key.encode('utf-8'))} bytes; "
            f"the limit is {keys.MAX_SOURCE_KEY_BYTES} (every table key holds it)"
        )


def _front_matter_fields(front_matter: object) -> dict[str, Any]:
    """The front-matter's fields by name, each within its length limit."""
    if not isinstance(front_matter, dict):
        raise FrontMatterError(
            "the front-matter must be a mapping of `key: value` lines, "
            f"not a {type(front_matter).__name__}"
        )
    fields: dict[str, Any] = {str(key): value for key, value in front_matter.items()}
    _check_lengths(fields)
    return fields


def _read_page(raw: bytes, source_key: str, settings: Settings) -> SourcePage:
    _check_key_length(source_key)
    text = _decode(raw)
    front_matter, body = _split_front_matter(text)
    if front_matter is None:
        front_matter = {}
    fields = _front_matter_fields(front_matter)
    tz = settings.tz
    stem = source_key.rpartition("/")[2].rpartition(".")[0]
    folder = source_key.rpartition("/")[0].rpartition("/")[2]
    return SourcePage(
        source_key=source_key,
        title=_optional_text(fields, "title") or (folder if stem == "index" and folder else stem),
        date=None if fields.get("date") in (None, "") else _date(fields, tz),
        updated=(
            None
            if fields.get("updated") in (None, "")
            else parse_date(fields["updated"], tz, key="updated")
        ),
        permalink=_permalink(fields.get("permalink")),
        layout=fields.get("layout") is not False,
        comments=_flag(fields, "comments", default=False),
        lang=_optional_text(fields, "lang"),
        body=xml_safe(body),
        extra=_extra(fields),
    )


def post_name(source_key: str, posts_prefix: str = "_posts/") -> str:
    """Hexo's ``:title``: the key below the posts prefix, without its extension."""
    _check_key_length(source_key)
    if not source_key.startswith(posts_prefix):
        raise PostError(f"the object key is not under {posts_prefix!r}")
    relative = source_key[len(posts_prefix) :]
    if any(segment in (".", "..") for segment in relative.split("/")):
        # The key, not a front-matter permalink, would climb out of the post's folder.
        raise PostError(f"the object key {source_key!r} has a '.' or '..' segment; rename it")
    folder, _, file_name = relative.rpartition("/")
    stem = file_name.rsplit(".", 1)[0] if "." in file_name.lstrip(".") else file_name
    if not stem.strip():
        raise PostError("the file name is empty")
    return f"{folder}/{stem}" if folder else stem


def _read(raw: bytes, source_key: str, settings: Settings, posts_prefix: str) -> Post:
    name = post_name(source_key, posts_prefix)
    text = _decode(raw)
    front_matter, body = _split_front_matter(text)
    fields = _front_matter_fields(front_matter)
    tz = settings.tz
    published = _published(fields, name)
    excerpt = _optional_text(fields, "excerpt")
    return Post(
        source_key=source_key,
        name=name,
        title=_optional_text(fields, "title") or name.rpartition("/")[2],
        date=_date(fields, tz),
        updated=(
            None
            if fields.get("updated") in (None, "")
            else parse_date(fields["updated"], tz, key="updated")
        ),
        categories=_categories(*_aliased(fields, "categories", "category")),
        tags=_tags(*_aliased(fields, "tags", "tag")),
        permalink=_permalink(fields.get("permalink")),
        published=published,
        comments=_flag(fields, "comments", default=True),
        lang=_optional_text(fields, "lang"),
        excerpt=excerpt if excerpt and excerpt.strip() else None,
        body=xml_safe(body),
        extra=_extra(fields),
        body_line=text.count("\n", 0, max(len(text) - len(body), 0)) + 1,
    )


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_SOURCE_BYTES:
        raise TooLargeError(f"the file is {len(raw)} bytes; the limit is {MAX_SOURCE_BYTES}")
    if b"\x00" in raw:
        raise EncodingError(f"binary file: NUL byte at offset {raw.index(0)}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise EncodingError(
            f"not UTF-8: byte {raw[error.start : error.start + 1]!r} at offset {error.start}"
        ) from error
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise FrontMatterError("the file is empty")
    return text


def _split_front_matter(text: str) -> tuple[object, str]:
    """(front-matter, body), the way hexo-front-matter splits a file.

    Leading blank lines are skipped, as Hexo's second pattern does: the seed post starts
    with one. A file not starting with a fence may still have "new style" front-matter
    (YAML, then a `---` line) when that part reads as a mapping.
    """
    start = text.lstrip()
    if start.startswith(";;;"):
        raise FrontMatterError("JSON front-matter (;;;) is not supported; use YAML between ---")
    handler = _yaml_handler()
    if _OPENING_FENCE.match(start):
        try:
            yaml_text, body = handler.split(start)
        except ValueError as error:
            raise FrontMatterError(
                "the front-matter has no closing `---` line (add one after the last key)"
            ) from error
        return _load_yaml(yaml_text), body.lstrip("\n")
    return _new_style_front_matter(text)


def _new_style_front_matter(text: str) -> tuple[object, str]:
    handler = _yaml_handler()
    match = handler.FM_BOUNDARY.search(text) if handler.FM_BOUNDARY else None
    if match is None:
        return {}, text
    try:
        front_matter = _load_yaml(text[: match.start()])
    except FrontMatterError:
        return {}, text
    if not isinstance(front_matter, dict):
        return {}, text
    return front_matter, text[match.end() :].lstrip("\n")


def _load_yaml(yaml_text: str) -> object:
    # Hexo turns leading tabs into two spaces each; YAML itself forbids tab indentation.
    spaced = _LEADING_TABS.sub(lambda tabs: "\n" + "  " * len(tabs[1]), yaml_text)
    try:
        loader = _hexo_yaml_loader()(spaced)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if len(spaced) <= _SMALL_YAML and "&" not in spaced and "*" not in spaced:
                _check_yaml_tree(node)  # no alias, and too short for MAX_YAML_VALUES
            else:
                _check_yaml_nodes(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise FrontMatterError(f"the front-matter is not valid YAML: {error}") from error
    # PyYAML's constructors raise plain Python errors on some hostile input (e.g. an
    # explicit !!timestamp that is no timestamp); each is a fault of the file.
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as error:
        raise FrontMatterError(f"the front-matter cannot be read: {error}") from error
    except (RecursionError, OverflowError) as error:  # absurdly deep or large values
        raise FrontMatterError(f"the front-matter cannot be read: {error}") from error


def _check_yaml_nodes(root: yaml.Node) -> None:
    """Before any value is built: aliases expand within ``MAX_YAML_VALUES``, no mapping
    repeats a key (Hexo's js-yaml rejects that too), no number is absurdly long.

    Iterative, and each node is sized once however many aliases point at it.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, children_done = pending.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done:
            if id(node) in open_nodes:
                continue  # reached again through a sibling alias before it was sized
            _check_scalars_and_keys(node)
            open_nodes.add(id(node))
            pending.append((node, True))
            for child in children:
                if id(child) in open_nodes:
                    raise FrontMatterError("a YAML alias refers to a value that contains it")
                if id(child) not in sizes:
                    pending.append((child, False))
            continue
        open_nodes.discard(id(node))
        sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
        if sizes[id(node)] > MAX_YAML_VALUES:
            raise TooLargeError(
                f"the front-matter expands to more than {MAX_YAML_VALUES} values "
                "(YAML aliases repeating a value?)"
            )


def _check_yaml_tree(root: yaml.Node) -> None:
    """``_check_yaml_nodes`` for YAML without an anchor or alias (a tree: each node met
    once) too short to hold ``MAX_YAML_VALUES`` values: its keys and numbers only, in the
    same order, so that the same fault is reported first."""
    pending = [root]
    while pending:
        node = pending.pop()
        _check_scalars_and_keys(node)
        pending += _children(node)


# A node takes a character at least, but a key's or an entry's empty value: two a character
_SMALL_YAML = MAX_YAML_VALUES // 4


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_scalars_and_keys(node: yaml.Node) -> None:
    if isinstance(node, yaml.ScalarNode):
        if node.tag.endswith((":int", ":float")) and len(node.value) > MAX_NUMBER_CHARACTERS:
            raise FieldTypeError(
                f"a number of {len(node.value)} characters; the limit is "
                f"{MAX_NUMBER_CHARACTERS} (quote it to keep it as text)",
                value=node.value,
            )
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[tuple[str, str]] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
            continue
        identity = (key_node.tag, key_node.value)
        if identity in seen:
            raise FrontMatterError(
                f"the key {key_node.value!r} appears twice in one mapping; keep one",
                key=key_node.value,
            )
        seen.add(identity)


def _check_lengths(fields: Mapping[str, Any]) -> None:
    for key, limit in MAX_FIELD_CHARACTERS.items():
        value = fields.get(key)
        if isinstance(value, str) and len(value) > limit:
            raise TooLargeError(
                f"{len(value)} characters; the limit is {limit}", key=key, value=value
            )


@cache
def _yaml_handler() -> YAMLHandler:
    from frontmatter.default_handlers import YAMLHandler

    return YAMLHandler()


@cache
def _hexo_yaml_loader() -> type[yaml.SafeLoader]:
    """PyYAML's safe loader, made to read scalars the way Hexo's YAML 1.2 parser does.

    YAML 1.1 reads `yes`/`no`/`on`/`off` as booleans; Hexo keeps them as text, so a tag
    named `on` stays a tag. Impossible timestamps (2022-02-30) stay text, so the date
    rules report them against their key instead of failing the whole file.
    """
    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class HexoYamlLoader(base):  # type: ignore[valid-type,misc]
        yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, re.Pattern[str]]]]] = {
            first: [rule for rule in rules if rule[0] != "tag:yaml.org,2002:bool"]
            for first, rules in base.yaml_implicit_resolvers.items()
        }

        def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> object:
            try:
                return self.construct_yaml_timestamp(node)
            except (ValueError, OverflowError, AttributeError, TypeError):
                return self.construct_scalar(node)

    HexoYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    HexoYamlLoader.add_constructor(
        "tag:yaml.org,2002:timestamp", HexoYamlLoader.construct_lenient_timestamp
    )
    return HexoYamlLoader


def _date(fields: Mapping[str, Any], tz: Any) -> datetime:
    value = fields.get("date")
    if value is None or value == "":
        # Hexo falls back to the file's birth time; S3 has no such thing and an object's
        # LastModified changes on every re-upload and rollback, which would move the post
        # between month archives. A post must say when it was written.
        raise DateError(
            "the post has no date; add e.g. `date: 2022-02-05 11:13:23`", key="date", value=value
        )
    return parse_date(value, tz, key="date")


def _aliased(fields: Mapping[str, Any], key: str, alias: str) -> tuple[object, str]:
    # Hexo uses the alias only when the plural key is absent (or empty).
    if fields.get(key) in (None, "", []) and fields.get(alias) not in (None, ""):
        return fields[alias], alias
    return fields.get(key), key


def _name(value: object, key: str, what: str) -> str:
    """A category or tag name; Hexo stringifies numbers (`2022` is the name "2022")."""
    if isinstance(value, str):
        name = visible_text(xml_safe(unicodedata.normalize("NFC", value))).strip()
        if len(name) > MAX_NAME_CHARACTERS:
            raise TooLargeError(
                f"each {what} name is at most {MAX_NAME_CHARACTERS} characters, "
                f"this one has {len(name)}",
                key=key,
                value=name,
            )
        return name
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else str(value)
    hint = " (quote it)" if isinstance(value, (date, bool)) else ""
    raise FieldTypeError(
        f"each {what} must be a name (text or a number), not a {type(value).__name__}{hint}",
        key=key,
        value=value,
    )


def _categories(value: object, key: str) -> tuple[tuple[str, ...], ...]:
    """Hexo's setCategories: a flat list is ONE hierarchy; a list holding a list makes
    every item its own hierarchy (a plain string item is a one-level hierarchy)."""
    if value is None or value == "":
        return ()
    items = [item for item in (value if isinstance(value, list) else [value]) if item != ""]
    items = [item for item in items if item is not None]
    if any(isinstance(item, list) for item in items):
        candidates = [_hierarchy(item, key) for item in items]
    else:
        candidates = [_hierarchy(items, key)]
    hierarchies = tuple(dict.fromkeys(h for h in candidates if h))
    nodes = {
        hierarchy[:depth] for hierarchy in hierarchies for depth in range(1, len(hierarchy) + 1)
    }
    if len(nodes) > MAX_CATEGORY_NODES:
        raise FieldTypeError(
            f"{len(nodes)} category levels in all; at most {MAX_CATEGORY_NODES} are allowed",
            key=key,
            value=value,
        )
    return hierarchies


def _hierarchy(value: object, key: str) -> tuple[str, ...]:
    levels = value if isinstance(value, list) else [value]
    names = (_name(level, key, "category") for level in levels if level not in (None, ""))
    return tuple(name for name in names if name)


def _tags(value: object, key: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value if isinstance(value, list) else [value]
    names = (_name(item, key, "tag") for item in items if item not in (None, ""))
    tags = tuple(dict.fromkeys(name for name in names if name))
    if len(tags) > MAX_TAGS:
        raise FieldTypeError(
            f"{len(tags)} tags; at most {MAX_TAGS} are allowed", key=key, value=value
        )
    return tags


def _optional_text(fields: Mapping[str, Any], key: str) -> str | None:
    value = fields.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return xml_safe(value).strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _name(value, key, key)
    if isinstance(value, date):  # `title: 2022-02-05` reads as a date; it was meant as text
        return value.isoformat()
    raise FieldTypeError(f"expected text, not a {type(value).__name__}", key=key, value=value)


def _flag(fields: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = fields.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    # Our YAML keeps yes/no as text (like Hexo); Hexo would then read "no" as true, which
    # is never what an author means.
    word = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise FieldTypeError("expected true or false", key=key, value=value)


def _published(fields: Mapping[str, Any], name: str) -> bool:
    # Hexo: files in source/_drafts are drafts; front-matter `published` decides otherwise.
    # Hexo ignores a `draft:` key, but Hugo and Jekyll users write `draft: true` meaning
    # "not yet": publishing it by surprise is the worse mistake, so we honour it.
    if name.startswith(DRAFTS_FOLDER):
        return False
    if fields.get("published") is not None:
        return _flag(fields, "published", default=True)
    return not _flag(fields, "draft", default=False)


def _permalink(value: object) -> str | None:
    """The override, relative to the site root, checked to stay on this site.

    Token rules (``:title`` ...) and what a path on this site may be belong to urls.py.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PermalinkError(
            f"expected a path such as my-post/, not a {type(value).__name__}",
            key="permalink",
            value=value,
        )
    problem = permalink_problem(value.strip())
    if problem:
        raise PermalinkError(problem, key="permalink", value=value)
    return value.strip().lstrip("/")


def _extra(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Every other key, as JSON-safe values the templates and the table can hold."""
    budget = _NodeBudget()
    extra = {
        key: _json_safe(value, key, budget, depth=0)
        for key, value in fields.items()
        if key not in _KNOWN_KEYS
    }
    for alias, key in (("category", "categories"), ("tag", "tags")):
        if alias in fields and fields.get(key) not in (None, "", []):
            extra[alias] = _json_safe(fields[alias], alias, budget, depth=0)
    sizes = {key: len(json.dumps(value, ensure_ascii=False)) for key, value in extra.items()}
    if sum(sizes.values()) > MAX_EXTRA_JSON_BYTES:
        largest = max(sizes, key=sizes.__getitem__)
        raise TooLargeError(
            f"the extra front-matter is over {MAX_EXTRA_JSON_BYTES} bytes "
            f"({largest!r} alone is {sizes[largest]})",
            key=largest,
            value=f"<{sizes[largest]} bytes>",
        )
    return extra


class _NodeBudget:
    def __init__(self) -> None:
        self.remaining = MAX_EXTRA_NODES

    def spend(self, key: str) -> None:
        self.remaining -= 1
        if self.remaining < 0:
            raise TooLargeError(
                f"the front-matter has more than {MAX_EXTRA_NODES} values (YAML aliases?)",
                key=key,
                value="<too many values>",
            )


def _json_safe(value: object, key: str, budget: _NodeBudget, *, depth: int) -> Any:
    budget.spend(key)
    if depth > MAX_EXTRA_DEPTH:
        raise FieldTypeError(
            f"nested more than {MAX_EXTRA_DEPTH} levels deep", key=key, value="<nested>"
        )
    if isinstance(value, str):
        return xml_safe(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):  # YAML !!binary
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {
            str(inner_key): _json_safe(inner, key, budget, depth=depth + 1)
            for inner_key, inner in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_json_safe(item, key, budget, depth=depth + 1) for item in value]
    if isinstance(value, (set, frozenset)):  # YAML !!set
        return sorted(xml_safe(str(item)) for item in value)
    return xml_safe(str(value))
