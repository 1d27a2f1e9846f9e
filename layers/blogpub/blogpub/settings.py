"""Site settings: the subset of Hexo's _config.yml that blogpub honours."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from blogpub.errors import SettingsError
from blogpub.highlight import HighlightSettings
from blogpub.urls import url_scheme

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FeedContent = Literal["full", "summary"]

DEFAULT_PERMALINK = ":year/:month/:day/:title/"


COMMENT_PROVIDERS = ("giscus", "utterances", "disqus")
_SHORTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")  # it becomes a host name


@dataclass(frozen=True)
class ExternalLinks:
    """``external_link`` of _config.yml (Hexo 7's default: on, for the whole site): links
    to other hosts than the site's and ``exclude``'s open in a new tab."""

    enable: bool = True
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comments:
    """A comment provider from _config.yml (``giscus:``, ``utterances:`` or ``disqus:``,
    as the NexT/Butterfly/Fluid themes spell them): its name and its string options."""

    provider: str
    options: Mapping[str, str]


@dataclass(frozen=True)
class Settings:
    title: str = "blogpub"
    subtitle: str = ""
    description: str = ""
    author: str = ""
    language: str = "en"
    timezone: str = "UTC"
    url: str = "http://example.com"  # no trailing slash
    root: str = "/"  # always starts and ends with "/"
    permalink: str = DEFAULT_PERMALINK
    per_page: int = 10  # posts on a landing page (home, category, tag)
    category_map: Mapping[str, str] = field(default_factory=dict)
    tag_map: Mapping[str, str] = field(default_factory=dict)
    # Hexo's filename_case: category and tag slugs kept (0), lowercased (1) or uppercased (2).
    filename_case: int = 0
    feed_limit: int = 20
    feed_content: FeedContent = "full"
    # Where `feed.type: rss2` (alone or in a list) puts the RSS 2.0 feed, relative to each
    # listing with an Atom feed ("rss2.xml"); None writes none. Atom is always written.
    rss2_path: str | None = None
    highlight: HighlightSettings = field(default_factory=HighlightSettings)
    external_link: ExternalLinks = field(default_factory=ExternalLinks)
    # `privacy_embeds: true`: youtube/vimeo tags embed the no-cookie players, not a link.
    privacy_embeds: bool = False
    comments: Comments | None = None  # a provider configured in _config.yml, else none
    # Hexo's post_asset_folder: files beside a post in _posts/<name>/ are served below its URL.
    post_asset_folder: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def absolute(self, path: str) -> str:
        """The absolute URL of a site path such as "/2022/02/05/x/" (already encoded)."""
        from blogpub.urls import url_origin

        return url_origin(self) + self.root.rstrip("/") + path


def _text(config: Mapping[str, Any], key: str, default: str) -> str:
    value = config.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, list) and key == "language":  # `language: [zh-CN, en]`: first wins
        value = value[0] if value else default
    if isinstance(value, (dict, list)):
        raise SettingsError(f"_config.yml: {key} = {value!r}: expected text")
    return str(value)


def _site_url(config: Mapping[str, Any], default: str) -> str:
    url = _text(config, "url", default).rstrip("/")
    parts = urlsplit(url)
    if (
        url_scheme(url) not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise SettingsError(
            f"_config.yml: url = {url!r}: expected the site's address, e.g. https://example.com"
        )
    return url


def _per_page(config: Mapping[str, Any], default: int) -> int:
    # Hexo's `per_page: 0` means one page with every post; a landing page must stay
    # bounded (invariant 2) and month archives already list every post, so 0 is the default.
    if config.get("per_page") == 0 and not isinstance(config.get("per_page"), bool):
        return default
    return _positive_int(config, "per_page", default)


def _feed_limit(feed: Mapping[str, Any], default: int) -> int:
    # hexo-generator-feed reads `limit: 0` or `false` as "every post"; a feed is rebuilt on
    # every publish, so it keeps the default length instead.
    if feed.get("limit") in (0, False, None):
        return default
    return _positive_int(feed, "limit", default)


def _feed_content(feed: Mapping[str, Any]) -> FeedContent:
    # hexo-generator-feed defaults `content` to true, but a `content:` key left empty
    # (as in its README's sample) or false means summaries only.
    if "content" not in feed:
        return "full"
    value = feed["content"]
    if value is True or value == "full":
        return "full"
    if value in (False, None, "", "summary"):
        return "summary"
    raise SettingsError(f"_config.yml: feed.content = {value!r}: expected true or false")


def _rss2_path(feed: Mapping[str, Any]) -> str | None:
    """hexo-generator-feed's reading of ``type`` and ``path``: a type or a list of types
    (unknown ones dropped, atom when none is left), a path or a list of paths matching the
    types (a missing or mismatched one is ``<type>.xml``; one without an extension gets
    ".xml"). Returns the RSS 2.0 feed's path, or None when rss2 is not among the types."""
    raw_type = feed.get("type")
    types = raw_type if isinstance(raw_type, list) else [raw_type]
    kept = list(dict.fromkeys(t for t in types if t in ("atom", "rss2")))
    if "rss2" not in kept:
        return None
    raw_path = feed.get("path")
    if isinstance(raw_type, list) and isinstance(raw_path, list) and raw_path:
        path = raw_path[kept.index("rss2")] if kept.index("rss2") < len(raw_path) else None
    elif isinstance(raw_type, str) and isinstance(raw_path, str) and raw_path:
        path = raw_path
    else:
        path = None
    path = "rss2.xml" if path is None else str(path).strip().lstrip("/")
    if "." not in path.rsplit("/", 1)[-1]:
        path += ".xml"
    segments = path.split("/")
    if any(s in ("", ".", "..") for s in segments) or any(c in path for c in "?#\\:"):
        raise SettingsError(
            f"_config.yml: feed.path = {raw_path!r}: the RSS 2.0 feed needs a relative file "
            "path such as rss2.xml"
        )
    if path == "atom.xml":
        raise SettingsError(
            f"_config.yml: feed.path = {raw_path!r}: the RSS 2.0 feed would overwrite the "
            "Atom feed at atom.xml"
        )
    return path


def _highlight(config: Mapping[str, Any]) -> HighlightSettings:
    """``highlight:``; Hexo 7 replaced ``highlight.enable`` by ``syntax_highlighter``, so
    either being off turns highlighting off."""
    section = config.get("highlight")
    values: Mapping[str, Any] = section if isinstance(section, dict) else {}
    base = HighlightSettings()
    flags = {}
    for key in ("enable", "line_number", "auto_detect", "wrap", "hljs", "strip_indent"):
        value = values.get(key, getattr(base, key))
        if not isinstance(value, bool):
            raise SettingsError(f"_config.yml: highlight.{key} = {value!r}: expected true or false")
        flags[key] = value
    if "syntax_highlighter" in config and not config["syntax_highlighter"]:
        flags["enable"] = False
    tab = values.get("tab_replace")
    if isinstance(tab, (dict, list, bool)):
        raise SettingsError(f"_config.yml: highlight.tab_replace = {tab!r}: expected text")
    return HighlightSettings(tab_replace="" if tab is None else str(tab), **flags)


def _external_link(config: Mapping[str, Any]) -> ExternalLinks:
    """Hexo's ``external_link: {enable, field, exclude}`` (``field`` does not matter here:
    the theme writes no external links, so ``site`` and ``post`` act alike)."""
    value = config.get("external_link", {})
    if isinstance(value, bool):  # Hexo < 4 spelled it `external_link: true`
        return ExternalLinks(enable=value)
    if not isinstance(value, dict):
        raise SettingsError(f"_config.yml: external_link = {value!r}: expected a mapping")
    enable = value.get("enable", True)
    if not isinstance(enable, bool):
        raise SettingsError(
            f"_config.yml: external_link.enable = {enable!r}: expected true or false"
        )
    exclude = value.get("exclude") or ()
    hosts = (exclude,) if isinstance(exclude, str) else exclude
    if not isinstance(hosts, (list, tuple)) or not all(isinstance(h, str) for h in hosts):
        raise SettingsError(f"_config.yml: external_link.exclude = {exclude!r}: expected hosts")
    return ExternalLinks(enable=enable, exclude=tuple(hosts))


def _comments(config: Mapping[str, Any]) -> Comments | None:
    """The first provider configured and enabled; ``None`` keeps pages free of its script."""
    for provider in COMMENT_PROVIDERS:
        section = config.get(provider)
        if not isinstance(section, dict) or section.get("enable") is False:
            continue
        options = {
            str(key): str(value)
            for key, value in section.items()
            if isinstance(value, (str, int)) and not isinstance(value, bool)
        }
        if provider == "disqus" and not _SHORTNAME.fullmatch(options.get("shortname", "")):
            raise SettingsError("_config.yml: disqus.shortname: expected the site's shortname")
        if provider in ("giscus", "utterances") and not options.get("repo"):
            raise SettingsError(f"_config.yml: {provider}.repo: expected owner/name")
        return Comments(provider, options)
    return None


def _positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"_config.yml: {key} = {value!r}: expected a whole number >= 1")
    return value


def _filename_case(config: Mapping[str, Any]) -> int:
    # hexo-util compares with ===, so "1" or true would silently keep the case: refuse them.
    value = config.get("filename_case")
    if value is None:
        return 0
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise SettingsError(
            f"_config.yml: filename_case = {value!r}: expected 0 (keep), 1 (lowercase) "
            "or 2 (uppercase)"
        )
    return int(value)


def _string_map(config: Mapping[str, Any], key: str) -> dict[str, str]:
    value = config.get(key) or {}
    if not isinstance(value, dict) or any(
        slug is None or isinstance(slug, (dict, list)) for slug in value.values()
    ):
        raise SettingsError(f"_config.yml: {key} = {value!r}: expected a mapping of name: slug")
    return {str(k): str(v) for k, v in value.items()}


def settings_from_mapping(config: Mapping[str, Any]) -> Settings:
    """Build settings from a parsed _config.yml; absent keys take the defaults."""
    base = Settings()
    timezone = _text(config, "timezone", base.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SettingsError(f"_config.yml: timezone = {timezone!r}: unknown time zone") from error
    root = "/" + _text(config, "root", "/").strip("/") + "/"
    root = "/" if root == "//" else root
    feed_config = config.get("feed")
    feed: Mapping[str, Any] = feed_config if isinstance(feed_config, dict) else {}
    permalink = _text(config, "permalink", DEFAULT_PERMALINK).lstrip("/")
    return replace(
        base,
        title=_text(config, "title", base.title),
        subtitle=_text(config, "subtitle", ""),
        description=_text(config, "description", ""),
        author=_text(config, "author", ""),
        language=_text(config, "language", base.language),
        timezone=timezone,
        url=_site_url(config, base.url),
        root=root,
        permalink=permalink,
        per_page=_per_page(config, base.per_page),
        category_map=_string_map(config, "category_map"),
        tag_map=_string_map(config, "tag_map"),
        filename_case=_filename_case(config),
        feed_limit=_feed_limit(feed, base.feed_limit),
        feed_content=_feed_content(feed),
        rss2_path=_rss2_path(feed),
        highlight=_highlight(config),
        external_link=_external_link(config),
        privacy_embeds=config.get("privacy_embeds") is True,
        comments=_comments(config),
        post_asset_folder=config.get("post_asset_folder") is True,
    )


def load_settings(raw: bytes | str | None) -> Settings:
    """Settings from the bytes of a _config.yml, or the defaults when there is none."""
    if raw is None:
        return Settings()
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    except UnicodeDecodeError as error:
        raise SettingsError(f"_config.yml: not UTF-8 (byte offset {error.start})") from error
    # Imported only for a site that has a _config.yml (about 11 ms of a cold start).
    import yaml

    # libyaml's safe loader where the wheel has it: the same values, parsed several times faster.
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        config = yaml.load(text, Loader=loader) or {}
    except yaml.YAMLError as error:
        raise SettingsError(f"_config.yml: not valid YAML: {error}") from error
    if not isinstance(config, dict):
        raise SettingsError("_config.yml: expected a mapping at the top level")
    return settings_from_mapping(config)


def load_site_settings(s3: S3Client, bucket: str, config_key: str) -> Settings:
    """The site's _config.yml from the source bucket, or the defaults when there is none."""
    try:
        response = s3.get_object(Bucket=bucket, Key=config_key)
    except s3.exceptions.NoSuchKey:
        return Settings()
    return load_settings(response["Body"].read())
