"""Environment variable names (one place) and the deployment configuration they carry."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

SOURCE_BUCKET = "SOURCE_BUCKET"
SITE_BUCKET = "SITE_BUCKET"
TABLE_NAME = "TABLE_NAME"
DISTRIBUTION_ID = "DISTRIBUTION_ID"
POSTS_PREFIX = "POSTS_PREFIX"
CONFIG_KEY = "CONFIG_KEY"
MAX_POST_BYTES = "MAX_POST_BYTES"
MAX_ASSET_BYTES = "MAX_ASSET_BYTES"
ROLLBACK_WINDOW_DAYS = "ROLLBACK_WINDOW_DAYS"
REBUILD_QUEUE_URL = "REBUILD_QUEUE_URL"
RENDER_FUNCTION_NAME = "RENDER_FUNCTION_NAME"
INDEX_PAGE_TTL_SECONDS = "INDEX_PAGE_TTL_SECONDS"
INVALIDATION_WILDCARD_THRESHOLD = "INVALIDATION_WILDCARD_THRESHOLD"

DEFAULT_POSTS_PREFIX = "_posts/"  # Hexo's source/_posts/, with the bucket as source/
DEFAULT_CONFIG_KEY = "_config.yml"
# Hexo posts are text; the largest corpus post is ~150 KB. 1 MiB leaves room for long
# articles with inline base64 images while keeping a render well inside Lambda's memory.
DEFAULT_MAX_POST_BYTES = 1024 * 1024
# Assets (images, PDFs) are copied through the function's memory: 10 MiB keeps a copy well
# inside the smallest memory size while covering photos and slide decks.
DEFAULT_MAX_ASSET_BYTES = 10 * 1024 * 1024
DEFAULT_ROLLBACK_WINDOW_DAYS = 30
# Pages that list posts are this many seconds old at most in CloudFront (template parameter
# IndexPageTtlSeconds): freshness from a short lifetime, not from billed invalidation paths.
DEFAULT_INDEX_PAGE_TTL_SECONDS = 60
# Above this many paths a batch invalidates by wildcard prefix (one billed path each).
DEFAULT_INVALIDATION_WILDCARD_THRESHOLD = 15


@dataclass(frozen=True)
class Deployment:
    """Where this stack's resources are; read from the environment the template sets."""

    source_bucket: str
    site_bucket: str
    table_name: str
    distribution_id: str = ""
    posts_prefix: str = DEFAULT_POSTS_PREFIX
    config_key: str = DEFAULT_CONFIG_KEY
    max_post_bytes: int = DEFAULT_MAX_POST_BYTES
    max_asset_bytes: int = DEFAULT_MAX_ASSET_BYTES
    rollback_window_days: int = DEFAULT_ROLLBACK_WINDOW_DAYS
    rebuild_queue_url: str = ""
    render_function_name: str = ""
    index_page_ttl_seconds: int = DEFAULT_INDEX_PAGE_TTL_SECONDS
    invalidation_wildcard_threshold: int = DEFAULT_INVALIDATION_WILDCARD_THRESHOLD

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Deployment:
        env = os.environ if environ is None else environ
        return cls(
            source_bucket=env.get(SOURCE_BUCKET, ""),
            site_bucket=env.get(SITE_BUCKET, ""),
            table_name=env.get(TABLE_NAME, ""),
            distribution_id=env.get(DISTRIBUTION_ID, ""),
            posts_prefix=env.get(POSTS_PREFIX) or DEFAULT_POSTS_PREFIX,
            config_key=env.get(CONFIG_KEY) or DEFAULT_CONFIG_KEY,
            max_post_bytes=int(env.get(MAX_POST_BYTES) or DEFAULT_MAX_POST_BYTES),
            max_asset_bytes=_int(env, MAX_ASSET_BYTES, DEFAULT_MAX_ASSET_BYTES),
            rollback_window_days=int(env.get(ROLLBACK_WINDOW_DAYS) or DEFAULT_ROLLBACK_WINDOW_DAYS),
            rebuild_queue_url=env.get(REBUILD_QUEUE_URL, ""),
            render_function_name=env.get(RENDER_FUNCTION_NAME, ""),
            index_page_ttl_seconds=_int(
                env, INDEX_PAGE_TTL_SECONDS, DEFAULT_INDEX_PAGE_TTL_SECONDS
            ),
            invalidation_wildcard_threshold=_int(
                env, INVALIDATION_WILDCARD_THRESHOLD, DEFAULT_INVALIDATION_WILDCARD_THRESHOLD
            ),
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole-number variable; empty means the default ("0" is a value: IndexPageTtlSeconds)."""
    value = env.get(name, "").strip()
    return int(value) if value else default
