"""Site settings: the subset of Hexo's _config.yml that blogpub honours."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from blogpub.errors import SettingsError

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

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def absolute(self, path: str) -> str:
        """The absolute URL of a site path such as "/2022/02/05/x/" (already encoded)."""
        return self.url + self.root.rstrip("/") + path


def _text(config: Mapping[str, Any], key: str, default: str) -> str:
    value = config.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, list):  # Hexo allows `language: [zh-CN, en]`; the first wins
        value = value[0] if value else default
    return str(value)


def _positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"_config.yml: {key} = {value!r}: expected a whole number >= 1")
    return value


def _string_map(config: Mapping[str, Any], key: str) -> dict[str, str]:
    value = config.get(key) or {}
    if not isinstance(value, dict):
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
    feed = config.get("feed") if isinstance(config.get("feed"), dict) else {}
    assert isinstance(feed, dict)
    feed_limit = _positive_int(feed, "limit", base.feed_limit) if feed.get("limit") else 20
    feed_content: FeedContent = "summary" if feed.get("content") is False else "full"
    if feed.get("content") == "summary":
        feed_content = "summary"
    permalink = _text(config, "permalink", DEFAULT_PERMALINK).lstrip("/")
    return replace(
        base,
        title=_text(config, "title", base.title),
        subtitle=_text(config, "subtitle", ""),
        description=_text(config, "description", ""),
        author=_text(config, "author", ""),
        language=_text(config, "language", base.language),
        timezone=timezone,
        url=_text(config, "url", base.url).rstrip("/"),
        root=root,
        permalink=permalink,
        per_page=_positive_int(config, "per_page", base.per_page),
        category_map=_string_map(config, "category_map"),
        tag_map=_string_map(config, "tag_map"),
        feed_limit=feed_limit,
        feed_content=feed_content,
    )


def load_settings(raw: bytes | str | None) -> Settings:
    """Settings from the bytes of a _config.yml, or the defaults when there is none."""
    if raw is None:
        return Settings()
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise SettingsError(f"_config.yml: not valid YAML: {error}") from error
    if not isinstance(config, dict):
        raise SettingsError("_config.yml: expected a mapping at the top level")
    return settings_from_mapping(config)
