"""Which local files become which source-bucket keys, and uploading them with a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

CONFIG_FILE = "_config.yml"
POST_SUFFIXES = (".md", ".markdown")
CONTENT_TYPES = {".md": "text/markdown; charset=utf-8", ".markdown": "text/markdown; charset=utf-8"}


class UploadPathError(Exception):
    """A path given to upload is neither a post file nor a folder."""


@dataclass(frozen=True)
class PostUpload:
    path: Path
    key: str

    @property
    def is_post(self) -> bool:
        return self.key != CONFIG_FILE

    @property
    def content_type(self) -> str:
        if not self.is_post:
            return "text/yaml; charset=utf-8"
        return CONTENT_TYPES.get(self.path.suffix.lower(), "text/plain; charset=utf-8")


def _is_post_file(path: Path, folder: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
    return path.is_file() and not hidden and path.suffix.lower() in POST_SUFFIXES


def _folder_uploads(folder: Path, prefix: str) -> list[PostUpload]:
    uploads = []
    if (folder / CONFIG_FILE).is_file():
        uploads.append(PostUpload(folder / CONFIG_FILE, CONFIG_FILE))
    posts = sorted(p for p in folder.rglob("*") if _is_post_file(p, folder))
    uploads += [PostUpload(p, prefix + p.relative_to(folder).as_posix()) for p in posts]
    return uploads


def upload_plan(paths: Iterable[Path], prefix: str) -> list[PostUpload]:
    """Folders keep their relative paths below ``prefix`` (a/b.md -> posts/a/b.md); a
    ``_config.yml`` goes to the bucket root and comes first, so posts render with it."""
    prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
    uploads: list[PostUpload] = []
    for path in paths:
        if path.is_dir():
            uploads += _folder_uploads(path, prefix)
        elif path.is_file() and path.name == CONFIG_FILE:
            uploads.append(PostUpload(path, CONFIG_FILE))
        elif path.is_file():
            uploads.append(PostUpload(path, prefix + path.name))
        else:
            raise UploadPathError(f"{path}: no such file or folder")
    return sorted(uploads, key=lambda upload: upload.is_post)


def progress_line(done: int, total: int, label: str, width: int = 30) -> str:
    filled = width * done // total if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}"


def upload_all(
    s3: Any, bucket: str, uploads: Sequence[PostUpload], progress: TextIO = sys.stderr
) -> None:
    """PUT each file; a progress bar on ``progress`` (redrawn in place on a terminal)."""
    interactive = progress.isatty()
    for done, upload in enumerate(uploads, start=1):
        s3.put_object(
            Bucket=bucket,
            Key=upload.key,
            Body=upload.path.read_bytes(),
            ContentType=upload.content_type,
        )
        line = progress_line(done, len(uploads), upload.key)
        progress.write(f"\r\x1b[K{line}" if interactive else line + "\n")
        progress.flush()
    if interactive:
        progress.write("\n")
