"""Site settings: the subset of Hexo's _config.yml that blogpub honours."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from blogpub.errors import SettingsError
from blogpub.highlight import HighlightSettings
from blogpub.urls import url_scheme

FeedContent = Literal["full", "summary"]

DEFAULT_PERMALINK = ":year/:month/:day/:title/"


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
    feed_limit: int = 20
    feed_content: FeedContent = "full"
    highlight: HighlightSettings = field(default_factory=HighlightSettings)
    # Hexo's post_asset_folder: files beside a post in _posts/<name>/ are served below its URL.
    post_asset_folder: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def absolute(self, path: str) -> str:
        """The absolute URL of a site path such as "/2022/02/05/x/" (already encoded)."""
        # Hexo's docs put a subdirectory in both `url` and `root`; count it once.
        subdirectory = self.root.rstrip("/")
        if urlsplit(self.url).path.rstrip("/").endswith(subdirectory):
            return self.url + path
        return self.url + subdirectory + path


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


def _positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"_config.yml: {key} = {value!r}: expected a whole number >= 1")
    return value


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
        feed_limit=_feed_limit(feed, base.feed_limit),
        feed_content=_feed_content(feed),
        highlight=_highlight(config),
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
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise SettingsError(f"_config.yml: not valid YAML: {error}") from error
    if not isinstance(config, dict):
        raise SettingsError("_config.yml: expected a mapping at the top level")
    return settings_from_mapping(config)
