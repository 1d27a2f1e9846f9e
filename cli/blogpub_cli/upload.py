"""Which local files become which source-bucket keys, and uploading them with a progress bar.

A file is uploaded only when the pipeline would act on its key (``blogpub.sources``):
anything else would sit in the bucket unpublished, so it is skipped and reported.
A folder that holds the posts prefix (``source/`` holding ``_posts/``) mirrors the bucket root,
as ``aws s3 sync source/ s3://bucket/`` would; any other folder is a folder of posts.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from blogpub.assets import content_type_for
from blogpub.config import DEFAULT_CONFIG_KEY as CONFIG_FILE
from blogpub.settings import load_settings
from blogpub.sources import KeyKind, classify

# Object metadata the sync compares: S3 returns it as x-amz-meta-sha256.
SHA256_METADATA = "sha256"
DEFAULT_JOBS = 8


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

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class UploadPlan:
    uploads: list[PostUpload]
    skipped: list[Path]  # files whose keys the pipeline would ignore


def _with_slash(prefix: str) -> str:
    return prefix if prefix.endswith("/") or not prefix else prefix + "/"


def is_published(key: str, prefix: str, *, asset_folders: bool = False) -> bool:
    """Whether the pipeline acts on ``key`` (every kind ``classify`` does not ignore)."""
    kind = classify(key, _with_slash(prefix), post_asset_folder=asset_folders)
    return kind is not KeyKind.IGNORED


def post_asset_folder(paths: Sequence[Path]) -> bool:
    """Whether the site's _config.yml turns post asset folders on: one given as a path, else
    a folder's own, else (Hexo's layout: source/ beside it) its parent's."""
    given = [p for p in paths if p.is_file() and p.name == CONFIG_FILE]
    folders = [p for p in paths if p.is_dir()]
    found = [*given, *(f / CONFIG_FILE for f in folders)]
    found += [f.resolve().parent / CONFIG_FILE for f in folders]
    for config in found:
        if config.is_file():
            return load_settings(config.read_bytes()).post_asset_folder
    return False


def folder_key_prefix(folder: Path, prefix: str) -> str:
    """Where a folder's files go: the bucket root for a source folder (it holds the posts
    prefix, e.g. ``source/_posts/``), else below the posts prefix (a folder of posts)."""
    prefix = _with_slash(prefix)
    return "" if prefix and (folder / prefix).is_dir() else prefix


def folder_key(folder: Path, file: Path, prefix: str) -> str:
    """The key of ``file`` (inside ``folder``) when ``folder`` is published."""
    if file == folder / CONFIG_FILE:
        return CONFIG_FILE
    return folder_key_prefix(folder, prefix) + file.relative_to(folder).as_posix()


def file_key(file: Path, prefix: str) -> str:
    """The key of a file given by itself: ``_config.yml`` at the root, else below the prefix."""
    return CONFIG_FILE if file.name == CONFIG_FILE else _with_slash(prefix) + file.name


def site_config_beside(folder: Path, prefix: str) -> Path | None:
    """Hexo keeps ``_config.yml`` beside ``source/``: a source folder without one of its own
    publishes that one, so ``blogpub publish source/`` publishes the whole blog."""
    if folder_key_prefix(folder, prefix) or (folder / CONFIG_FILE).is_file():
        return None
    beside = folder.resolve().parent / CONFIG_FILE
    return beside if beside.is_file() else None


def candidates(path: Path, prefix: str) -> list[tuple[Path, str]]:
    """(file, key) pairs a path stands for, before the pipeline's rule is applied."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        config = site_config_beside(path, prefix)
        return [(p, folder_key(path, p, prefix)) for p in files] + (
            [(config, CONFIG_FILE)] if config else []
        )
    if path.is_file():
        return [(path, file_key(path, prefix))]
    raise UploadPathError(f"{path}: no such file or folder")


def split_by_rule(
    pairs: Iterable[tuple[Path, str]], prefix: str, *, asset_folders: bool = False
) -> tuple[list[PostUpload], list[Path]]:
    """The uploads the pipeline acts on, config first; and the files it would ignore."""
    uploads: list[PostUpload] = []
    skipped: list[Path] = []
    for file, key in pairs:
        if is_published(key, prefix, asset_folders=asset_folders):
            uploads.append(PostUpload(file, key))
        else:
            skipped.append(file)
    return sorted(uploads, key=lambda upload: upload.is_post), skipped


def upload_plan(paths: Iterable[Path], prefix: str) -> UploadPlan:
    """Folders keep their relative paths below ``prefix`` (a/b.md -> _posts/a/b.md), or at the
    root for a source folder; a ``_config.yml`` (a source folder's may be beside it) goes to
    the bucket root and comes first, so posts render with it. Files the pipeline would not
    act on (``_x.md``, ``Post.MD``) are skipped."""
    paths = list(paths)
    pairs = [pair for path in paths for pair in candidates(path, prefix)]
    uploads, skipped = split_by_rule(pairs, prefix, asset_folders=post_asset_folder(paths))
    return UploadPlan(uploads, skipped)


def skipped_summary(skipped: Sequence[Path | str], shown: int = 5) -> str:
    """One line naming what was not uploaded, e.g. for files Hexo would not publish either."""
    names = ", ".join(str(path) for path in skipped[:shown])
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"skipped {len(skipped)} files that are not posts: {names}{more}"


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def progress_line(
    done: int,
    total: int,
    label: str,
    width: int = 30,
    *,
    sent_bytes: int | None = None,
    total_bytes: int | None = None,
) -> str:
    filled = width * done // total if total else width
    line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}"
    if sent_bytes is not None and total_bytes is not None:
        line += f" ({human_bytes(sent_bytes)}/{human_bytes(total_bytes)})"
    return line


def file_digests(path: Path) -> tuple[str, str]:
    """(md5, sha256) of a file's bytes, hex: MD5 to compare with a plain ETag."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


@dataclass(frozen=True)
class UploadFailure:
    key: str
    error: str


class Progress:
    """A bar of files and bytes on ``stream``, redrawn in place on a terminal."""

    def __init__(self, stream: TextIO, total: int, total_bytes: int) -> None:
        self.stream, self.total, self.total_bytes = stream, total, total_bytes
        self.done = self.sent_bytes = 0
        self.interactive = stream.isatty()

    def advance(self, label: str, size: int) -> None:
        self.done += 1
        self.sent_bytes += size
        line = progress_line(
            self.done, self.total, label, sent_bytes=self.sent_bytes, total_bytes=self.total_bytes
        )
        self.stream.write(f"\r\x1b[K{line}" if self.interactive else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.interactive and self.done:
            self.stream.write("\n")


def put_file(s3: Any, bucket: str, upload: PostUpload) -> int:
    """PUT one file with its sha256 in the object's metadata; the bytes sent."""
    body = upload.path.read_bytes()
    s3.put_object(
        Bucket=bucket,
        Key=upload.key,
        Body=body,
        ContentType=upload.content_type,
        Metadata={SHA256_METADATA: hashlib.sha256(body).hexdigest()},
    )
    return len(body)


def upload_all(
    s3: Any,
    bucket: str,
    uploads: Sequence[PostUpload],
    progress: TextIO | None = None,
    *,
    jobs: int = DEFAULT_JOBS,
) -> list[UploadFailure]:
    """PUT each file, ``jobs`` at a time; the config first and alone, so posts render with it.
    A progress bar of files and bytes on ``progress`` (stderr). Returns the uploads that failed."""
    progress = progress or sys.stderr
    sizes = {upload.key: upload.size for upload in uploads}
    bar = Progress(progress, len(uploads), sum(sizes.values()))
    failures: list[UploadFailure] = []
    lock = threading.Lock()

    def send(upload: PostUpload) -> None:
        try:
            put_file(s3, bucket, upload)
        except Exception as error:  # reported per file; the others go on
            with lock:
                failures.append(UploadFailure(upload.key, f"{type(error).__name__}: {error}"))
        with lock:
            bar.advance(upload.key, sizes[upload.key])

    first = [upload for upload in uploads if not upload.is_post]
    for upload in first:
        send(upload)
    _in_parallel(send, [upload for upload in uploads if upload.is_post], jobs)
    bar.close()
    return sorted(failures, key=lambda failure: failure.key)


def _in_parallel(
    work: Callable[[PostUpload], None], items: Sequence[PostUpload], jobs: int
) -> None:
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for future in as_completed([pool.submit(work, item) for item in items]):
            future.result()
