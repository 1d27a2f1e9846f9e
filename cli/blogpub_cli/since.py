"""`blogpub publish --since <git-ref>`: the files that changed between a commit and HEAD.

``git diff --name-status -z <ref> HEAD -- <path>`` names them; a rename (or a copy's source
staying put) is a delete of the old path plus a put of the new one. A push's
``github.event.before`` is all zeros on a branch's first push: there is no previous commit,
so the caller falls back to a full sync, as it does when the ref is not in the clone.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

NULL_REF = re.compile(r"0+")


class GitError(Exception):
    """git could not answer (not a repository, git missing): the message says why."""


@dataclass
class GitChanges:
    """Absolute paths: ``changed`` were added or modified, ``removed`` were deleted."""

    changed: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def is_null_ref(ref: str) -> bool:
    """The all-zeros ``before`` of a first push (or an empty ref): nothing to diff against."""
    return not ref.strip() or bool(NULL_REF.fullmatch(ref.strip()))


def _git(cwd: Path, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(  # noqa: PLW1510 - callers read returncode
            ["git", *arguments], cwd=cwd, capture_output=True, timeout=120
        )
    except FileNotFoundError as error:
        raise GitError("git is not installed") from error


def resolves(cwd: Path, ref: str) -> bool:
    """Whether ``ref`` names a commit of the repository at ``cwd``."""
    return _git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0


def parse_name_status(output: bytes, top: Path) -> GitChanges:
    """``git diff --name-status -z`` output (paths relative to ``top``) as absolute paths."""
    fields = output.decode("utf-8", "surrogateescape").split("\0")
    changes = GitChanges()
    index = 0
    while index < len(fields) and fields[index]:
        status = fields[index][0]
        if status in "RC":
            old, new = top / fields[index + 1], top / fields[index + 2]
            if status == "R":
                changes.removed.append(old)
            changes.changed.append(new)
            index += 3
            continue
        path = top / fields[index + 1]
        (changes.removed if status == "D" else changes.changed).append(path)
        index += 2
    return changes


def git_changes(path: Path, ref: str) -> GitChanges | None:
    """What changed under ``path`` (a folder or a file) from ``ref`` to HEAD; None when
    ``ref`` is not a commit of this clone (a force-push's old head, a shallow clone)."""
    cwd = (path if path.is_dir() else path.parent).resolve()
    top_answer = _git(cwd, "rev-parse", "--show-toplevel")
    if top_answer.returncode != 0:
        message = top_answer.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"{path}: --since needs a git repository ({message})")
    if not resolves(cwd, ref):
        return None
    top = Path(top_answer.stdout.decode("utf-8").strip())
    diff = _git(cwd, "diff", "--name-status", "-z", ref, "HEAD", "--", str(path.resolve()))
    if diff.returncode != 0:
        raise GitError(f"git diff {ref} HEAD: {diff.stderr.decode('utf-8', 'replace').strip()}")
    return parse_name_status(diff.stdout, top)
