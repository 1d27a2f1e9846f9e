"""`blogpub publish`: sync files and folders to the source bucket.

Uploads only what differs from the bucket (``sync``), ``--delete`` removes the keys of files
that are gone, ``--since <git-ref>`` looks only at what git says changed, ``--dry-run``
prints the plan. Exit codes: EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUCKET below.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from blogpub.config import DEFAULT_CONFIG_KEY as CONFIG_FILE
from blogpub_cli.since import GitChanges, GitError, git_changes, is_null_ref
from blogpub_cli.sync import BucketReadError, SyncPlan, delete_keys, list_bucket, sync_plan
from blogpub_cli.upload import (
    DEFAULT_JOBS,
    UploadFailure,
    UploadPathError,
    candidates,
    file_key,
    folder_key,
    folder_key_prefix,
    human_bytes,
    post_asset_folder,
    site_config_beside,
    skipped_summary,
    split_by_rule,
    upload_all,
)

EXIT_OK = 0
EXIT_FAILED = 1  # some uploads or deletes failed; the summary names them
EXIT_USAGE = 2  # bad arguments, a missing path, nothing to publish, --since outside git
EXIT_BUCKET = 3  # the bucket could not be listed (missing bucket, credentials, network)

EXIT_CODES_HELP = """exit status:
  0  the bucket matches the files (or --dry-run printed the plan)
  1  some uploads or deletes failed (named on stderr and in --json's "failures")
  2  usage error: bad arguments, a missing path, nothing to publish, --since outside git
  3  the bucket could not be listed (missing bucket, credentials, network)"""


@dataclass
class Selection:
    """The local side of a publish: (file, key) pairs, keys whose files are gone, and the
    key prefixes a full sync owns (folders only: their keys may be deleted)."""

    pairs: list[tuple[Path, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    full: bool = True


def full_selection(paths: Sequence[Path], prefix: str) -> Selection:
    selection = Selection()
    for path in paths:
        selection.pairs.extend(candidates(path, prefix))
        if path.is_dir():
            selection.scopes.append(folder_key_prefix(path, prefix))
    return selection


def since_selection(paths: Sequence[Path], prefix: str, ref: str, err: TextIO) -> Selection:
    """The files git says changed under each path; a full sync when ``ref`` cannot be used."""
    if is_null_ref(ref):
        print(f"blogpub publish: --since {ref}: no previous commit, syncing everything", file=err)
        return full_selection(paths, prefix)
    selection = Selection(full=False)
    for path in paths:
        if not path.exists():
            raise UploadPathError(f"{path}: no such file or folder")
        changes = git_changes(path, ref)
        if changes is None:
            note = f"--since {ref}: not a commit of this clone, syncing everything"
            print(f"blogpub publish: {note}", file=err)
            return full_selection(paths, prefix)
        root = path.resolve()
        for file in changes.changed:
            key = folder_key(root, file, prefix) if path.is_dir() else file_key(file, prefix)
            if file.is_file():
                selection.pairs.append((file, key))
            else:
                selection.gone.append(key)  # changed in git, gone from the working tree
        for file in changes.removed:
            key = folder_key(root, file, prefix) if path.is_dir() else file_key(file, prefix)
            selection.gone.append(key)
        if path.is_dir():
            selection.scopes.append(folder_key_prefix(root, prefix))
            config = site_config_beside(path, prefix)
            if config is not None and (git_changes(config, ref) or GitChanges()).changed:
                selection.pairs.append((config, CONFIG_FILE))
    return selection


def s3_client(endpoint_url: str | None, jobs: int) -> Any:
    import boto3
    from botocore.config import Config

    # One pooled connection per upload thread (botocore keeps 10 by default).
    return boto3.client(
        "s3", endpoint_url=endpoint_url, config=Config(max_pool_connections=max(10, jobs))
    )


def plan_lines(plan: SyncPlan) -> list[str]:
    lines = [f"upload {u.key} ({'new' if u.key in plan.new_keys else 'changed'})" for u in plan.put]
    lines += [f"delete {key}" for key in plan.delete]
    lines += [f"keep {key} (its file is gone; --delete removes it)" for key in plan.kept]
    return lines


def report(
    args: argparse.Namespace,
    plan: SyncPlan,
    skipped: Sequence[Path],
    failures: Sequence[UploadFailure],
    *,
    full: bool,
) -> dict[str, Any]:
    failed_keys = {failure.key for failure in failures}
    uploaded = [u for u in plan.put if u.key not in failed_keys]
    return {
        "bucket": args.bucket,
        "dry_run": args.dry_run,
        "since": args.since,
        "full_sync": full,
        "uploaded": len(uploaded),
        "unchanged": len(plan.unchanged),
        "deleted": len([key for key in plan.delete if key not in failed_keys]),
        "rejected_by_rule": len(skipped),
        "kept": len(plan.kept),
        "failed": len(failures),
        "bytes_uploaded": sum(u.size for u in uploaded),
        "uploads": [
            {"key": u.key, "change": "new" if u.key in plan.new_keys else "changed"}
            for u in uploaded
        ],
        "deletes": [key for key in plan.delete if key not in failed_keys],
        "kept_keys": plan.kept,
        "rejected": [str(path) for path in skipped],
        "failures": [{"key": failure.key, "error": failure.error} for failure in failures],
    }


def summary_line(result: dict[str, Any]) -> str:
    verb = "would upload" if result["dry_run"] else "uploaded"
    line = (
        f"{verb} {result['uploaded']} files to s3://{result['bucket']}/"
        f" ({human_bytes(result['bytes_uploaded'])}); {result['unchanged']} unchanged;"
        f" {result['deleted']} {'to delete' if result['dry_run'] else 'deleted'};"
        f" {result['rejected_by_rule']} rejected by rule"
    )
    if result["kept"]:
        line += f"; {result['kept']} gone but kept (pass --delete)"
    if result["failed"]:
        line += f"; {result['failed']} failed"
    return line


def run_publish(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # at call time: tests swap sys.stderr
    if args.jobs < 1:
        print("blogpub publish: --jobs must be at least 1", file=err)
        return EXIT_USAGE
    try:
        if args.since is None:
            selection = full_selection(args.paths, args.prefix)
        else:
            selection = since_selection(args.paths, args.prefix, args.since, err)
    except (UploadPathError, GitError) as error:
        print(f"blogpub publish: {error}", file=err)
        return EXIT_USAGE
    unique: dict[str, tuple[Path, str]] = {}
    for file, key in selection.pairs:
        unique.setdefault(key, (file, key))  # source/ and its _config.yml given as well
    asset_folders = post_asset_folder(args.paths)
    uploads, skipped = split_by_rule(
        list(unique.values()), args.prefix, asset_folders=asset_folders
    )
    if skipped:
        print(f"blogpub publish: {skipped_summary(skipped)}", file=err)
    if selection.full and not uploads:
        print("blogpub publish: no file the pipeline publishes was found", file=err)
        return EXIT_USAGE
    s3 = s3_client(args.endpoint_url, args.jobs)
    keys = [key for _, key in selection.pairs] + selection.gone
    outside = [key for key in keys if not key.startswith(tuple(selection.scopes))]
    try:
        remote = list_bucket(s3, args.bucket, selection.scopes + outside)
    except BucketReadError as error:
        print(f"blogpub publish: {error}", file=err)
        return EXIT_BUCKET
    gone = selection.gone
    if selection.full:
        gone = [key for key in remote if key.startswith(tuple(selection.scopes))]
    plan = sync_plan(
        s3,
        args.bucket,
        uploads,
        remote,
        prefix=args.prefix,
        gone=gone,
        delete=args.delete,
        jobs=args.jobs,
        asset_folders=asset_folders,
    )
    failures: list[UploadFailure] = []
    if args.dry_run:
        if not args.json:
            for line in plan_lines(plan):
                print(line, file=out)
    else:
        # Deletes first: a renamed post keeping its URL then mostly finds it free (races remain).
        failures = [UploadFailure(k, e) for k, e in delete_keys(s3, args.bucket, plan.delete)]
        failures += upload_all(s3, args.bucket, plan.put, err, jobs=args.jobs)
    result = report(args, plan, skipped, failures, full=selection.full)
    for failure in failures:
        print(f"blogpub publish: failed {failure.key}: {failure.error}", file=err)
    print(summary_line(result), file=err)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False), file=out)
    return EXIT_FAILED if failures else EXIT_OK


def add_publish_arguments(publish: argparse.ArgumentParser) -> None:
    publish.add_argument(
        "--delete", action="store_true", help="remove keys whose files are gone (never the config)"
    )
    publish.add_argument(
        "--dry-run", action="store_true", help="print the plan (stdout) and change nothing"
    )
    publish.add_argument(
        "--since",
        metavar="GIT_REF",
        help="only what changed from GIT_REF to HEAD (all zeros: everything)",
    )
    publish.add_argument(
        "--jobs", type=int, default=DEFAULT_JOBS, help=f"parallel uploads (default {DEFAULT_JOBS})"
    )
    publish.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
