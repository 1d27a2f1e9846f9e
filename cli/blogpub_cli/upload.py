"""Which local files become which source-bucket keys, and uploading them with a progress bar.

A file is uploaded only when the pipeline would act on its key (``blogpub.sources``):
anything else would sit in the bucket unpublished, so it is skipped and reported.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from blogpub.assets import content_type_for
from blogpub.config import DEFAULT_CONFIG_KEY as CONFIG_FILE
from blogpub.config import DEFAULT_POSTS_PREFIX
from blogpub.settings import load_settings
from blogpub.sources import KeyKind, classify

POSTS_FOLDER = DEFAULT_POSTS_PREFIX.rstrip("/")


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
        return content_type_for(self.key)


@dataclass(frozen=True)
class UploadPlan:
    uploads: list[PostUpload]
    skipped: list[Path]  # files whose keys the pipeline would ignore


def is_source_folder(path: Path) -> bool:
    """A Hexo ``source/`` folder (it has ``_posts/``): its files keep their paths as keys."""
    return (path / POSTS_FOLDER).is_dir()


def _candidates(path: Path, prefix: str) -> list[tuple[Path, str]]:
    """(file, key) pairs a path stands for, before the pipeline's rule is applied."""
    if path.is_dir() and is_source_folder(path):
        return [(p, p.relative_to(path).as_posix()) for p in sorted(path.rglob("*")) if p.is_file()]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return [
            (p, CONFIG_FILE if p == path / CONFIG_FILE else prefix + p.relative_to(path).as_posix())
            for p in files
        ]
    if path.is_file():
        return [(path, CONFIG_FILE if path.name == CONFIG_FILE else prefix + path.name)]
    raise UploadPathError(f"{path}: no such file or folder")


def upload_plan(paths: Iterable[Path], prefix: str) -> UploadPlan:
    """Folders of posts keep their relative paths below ``prefix`` (a/b.md -> _posts/a/b.md);
    a Hexo ``source/`` folder keeps its own paths (the bucket is that folder). A
    ``_config.yml`` goes to the bucket root and comes first, so posts render with it.
    Files the pipeline would not act on (``_x.md``, drafts, hidden files) are skipped."""
    prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
    paths = list(paths)
    uploads: list[PostUpload] = []
    skipped: list[Path] = []
    for path in paths:
        posts_prefix = DEFAULT_POSTS_PREFIX if is_source_folder(path) else prefix
        asset_folders = _post_asset_folder(path, paths)
        for file, key in _candidates(path, prefix):
            kind = classify(key, posts_prefix, post_asset_folder=asset_folders)
            if kind is KeyKind.IGNORED:
                skipped.append(file)
            else:
                uploads.append(PostUpload(file, key))
    return UploadPlan(sorted(uploads, key=lambda upload: upload.is_post), skipped)


def _post_asset_folder(path: Path, paths: Sequence[Path]) -> bool:
    """Whether the site's _config.yml turns post asset folders on: one given beside the
    folder, else the folder's own, else (Hexo's layout: source/ beside it) its parent's."""
    given = [p for p in paths if p.is_file() and p.name == CONFIG_FILE]
    folder = path if path.is_dir() else path.parent
    for config in (*given, folder / CONFIG_FILE, folder.parent / CONFIG_FILE):
        if config.is_file() and (
            config in given or config.parent == folder or is_source_folder(folder)
        ):
            return load_settings(config.read_bytes()).post_asset_folder
    return False


def skipped_summary(skipped: Sequence[Path | str], shown: int = 5) -> str:
    """One line naming what was not uploaded, e.g. for files Hexo would not publish either."""
    names = ", ".join(str(path) for path in skipped[:shown])
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"skipped {len(skipped)} files that are not posts: {names}{more}"


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
