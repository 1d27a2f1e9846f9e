"""Assets: the files of the source folder that are copied to the site as they are.

Images, PDFs, ``CNAME``, and with ``post_asset_folder`` the files of a post's folder
(``_posts/<name>/<file>``, served below the post's URL). What a key is belongs to
``sources``, where it is served to ``urls``; this module knows content types and lists a
post's asset folder (what ``asset_img``/``asset_link``/``asset_path`` may name).
"""

from __future__ import annotations

import mimetypes
from functools import cache
from typing import TYPE_CHECKING

from blogpub.config import DEFAULT_POSTS_PREFIX
from blogpub.models import Page
from blogpub.sources import KeyKind, asset_folder_of, classify

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_CONTENT_TYPE = "application/octet-stream"
# Text types are served as UTF-8, the encoding Hexo sources are written in.
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
# Types Python's built-in table lacks or spells differently from what browsers expect.
EXTRA_TYPES = {
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".md": "text/markdown",
    ".yml": "text/yaml",
    ".yaml": "text/yaml",
    ".webmanifest": "application/manifest+json",
}


@cache
def _table() -> mimetypes.MimeTypes:
    # Python's own table only: the host's /etc/mime.types differs between machines and Lambda.
    return mimetypes.MimeTypes(filenames=())


def content_type_for(key: str) -> str:
    """The Content-Type an asset is served with, from its extension (case-insensitive)."""
    name = key.rpartition("/")[2]
    extension = "." + name.rpartition(".")[2].lower() if "." in name.lstrip(".") else ""
    found = EXTRA_TYPES.get(extension) or _table().types_map[True].get(extension)
    content_type = found or DEFAULT_CONTENT_TYPE
    if content_type.startswith(TEXT_TYPES):
        return content_type + "; charset=utf-8"
    return content_type


def asset_page(url: str, body: bytes, source_key: str) -> Page:
    """The site object an asset becomes: its bytes as they are, at ``url``."""
    return Page(url=url, body=body, content_type=content_type_for(source_key))


def post_asset_names(
    s3: S3Client, bucket: str, post_key: str, posts_prefix: str = DEFAULT_POSTS_PREFIX
) -> frozenset[str]:
    """The files of a post's asset folder, relative to it (``img/a.png``): what a post's
    ``TagContext.assets`` holds, so ``asset_img`` resolves only files that exist."""
    return frozenset(
        key.removeprefix(asset_folder_of(post_key))
        for key in post_asset_keys(s3, bucket, post_key, posts_prefix)
    )


def post_asset_keys(
    s3: S3Client, bucket: str, post_key: str, posts_prefix: str = DEFAULT_POSTS_PREFIX
) -> list[str]:
    """The source keys in a post's asset folder that are post assets (no hidden files)."""
    folder = asset_folder_of(post_key)
    found: list[str] = []
    for listing in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
        for item in listing.get("Contents", []):
            key = item["Key"]
            kind = classify(key, posts_prefix, post_asset_folder=True)
            if kind is KeyKind.POST_ASSET:
                found.append(key)
    return found
