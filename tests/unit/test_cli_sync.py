"""`blogpub publish` as a sync, against moto's S3: what is uploaded, kept, deleted, and why."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from blogpub_cli.main import build_parser
from blogpub_cli.publish_command import (
    EXIT_BUCKET,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    run_publish,
    since_selection,
)
from blogpub_cli.since import is_null_ref, parse_name_status
from blogpub_cli.sync import etag_is_md5, list_bucket, sync_plan
from blogpub_cli.upload import PostUpload, folder_key, upload_all, upload_plan
from moto import mock_aws

from tests.conftest import REPO

BUCKET = "source"
POST = "---\ntitle: {title}\ndate: 2024-01-02 03:04:05\n---\n{title} body\n"


@pytest.fixture
def s3(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def publish(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any], str]:
    """`blogpub publish ... --json` in-process: exit code, the JSON summary, stderr."""
    args = build_parser().parse_args(
        ["publish", "--bucket", BUCKET, "--prefix", "posts/", "--json", *arguments]
    )
    code = run_publish(args)
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def keys(s3: Any) -> list[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def test_a_source_folder_publishes_the_site_config_beside_it_once(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"_config.yml": "title: Blog\n", "source/_posts/a.md": POST.format(title="A")})
    source = str(tmp_path / "source")

    code, summary, _ = publish(capsys, source, str(tmp_path / "_config.yml"), "--prefix", "_posts/")

    assert code == EXIT_OK
    assert [upload["key"] for upload in summary["uploads"]] == ["_config.yml", "_posts/a.md"]
    assert keys(s3) == ["_config.yml", "_posts/a.md"]


def test_a_source_folder_mirrors_the_bucket_root_and_a_posts_folder_goes_below_the_prefix(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"source/_posts/a.md": "x", "posts/b.md": "x", "posts/_config.yml": "t: 1"})
    source, posts = tmp_path / "source", tmp_path / "posts"

    assert folder_key(source, source / "_posts" / "a.md", "_posts/") == "_posts/a.md"
    assert folder_key(posts, posts / "b.md", "posts/") == "posts/b.md"
    assert folder_key(posts, posts / "_config.yml", "posts/") == "_config.yml"
    plan = upload_plan([source], "_posts/")
    assert [upload.key for upload in plan.uploads] == ["_posts/a.md"]


def test_an_etag_is_an_md5_only_for_a_plain_single_put() -> None:
    md5 = hashlib.md5(b"x", usedforsecurity=False).hexdigest()
    assert etag_is_md5(md5)
    assert etag_is_md5(md5, "AES256")  # SSE-S3 keeps the MD5
    assert not etag_is_md5(md5, "aws:kms")
    assert not etag_is_md5(md5[:30] + "-2")  # multipart: <md5 of the parts' md5s>-<parts>


def test_second_publish_uploads_nothing_and_a_change_uploads_one_file(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"a.md": POST.format(title="A"), "b.md": POST.format(title="B")})

    first = publish(capsys, str(tmp_path))
    again = publish(capsys, str(tmp_path))
    write(tmp_path, {"b.md": POST.format(title="B, edited")})
    edited = publish(capsys, str(tmp_path))

    assert (first[0], first[1]["uploaded"], first[1]["unchanged"]) == (EXIT_OK, 2, 0)
    assert (again[0], again[1]["uploaded"], again[1]["unchanged"]) == (EXIT_OK, 0, 2)
    assert edited[1]["uploads"] == [{"key": "posts/b.md", "change": "changed"}]
    assert "uploaded 1 files to s3://source/" in edited[2]
    head = s3.head_object(Bucket=BUCKET, Key="posts/b.md")
    digest = hashlib.sha256((tmp_path / "b.md").read_bytes()).hexdigest()
    assert head["Metadata"]["sha256"] == digest


def test_delete_removes_only_published_keys_of_the_synced_folder(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"_config.yml": "title: t\n", "a.md": POST.format(title="A")})
    write(tmp_path, {"gone.md": POST.format(title="Gone")})
    assert publish(capsys, str(tmp_path))[0] == EXIT_OK
    for other in ("elsewhere/keep.md", "posts/_draft.md", "posts/.hidden.md", "posts/x.md~"):
        s3.put_object(Bucket=BUCKET, Key=other, Body=b"not ours")
    (tmp_path / "gone.md").unlink()
    (tmp_path / "_config.yml").unlink()

    without = publish(capsys, str(tmp_path))
    dry = publish(capsys, str(tmp_path), "--delete", "--dry-run")
    assert "posts/gone.md" in keys(s3)  # neither run deleted anything
    with_delete = publish(capsys, str(tmp_path), "--delete")

    assert (without[1]["kept_keys"], without[1]["deleted"]) == (["posts/gone.md"], 0)
    assert "pass --delete" in without[2]
    assert (dry[1]["dry_run"], dry[1]["deletes"]) == (True, ["posts/gone.md"])
    assert (with_delete[0], with_delete[1]["deletes"]) == (EXIT_OK, ["posts/gone.md"])
    assert keys(s3) == [
        "_config.yml",
        "elsewhere/keep.md",
        "posts/.hidden.md",
        "posts/_draft.md",
        "posts/a.md",
        "posts/x.md~",
    ]


def test_dry_run_prints_the_plan_and_writes_nothing(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"new.md": POST.format(title="New"), "_skip.md": "x"})
    args = build_parser().parse_args(
        ["publish", str(tmp_path), "--bucket", BUCKET, "--prefix", "posts/", "--dry-run"]
    )

    assert run_publish(args) == EXIT_OK

    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["upload posts/new.md (new)"]
    assert "would upload 1 files" in captured.err and "1 rejected by rule" in captured.err
    assert keys(s3) == []


def test_a_same_size_object_is_compared_by_etag_then_by_the_sha256_metadata(
    s3: Any, tmp_path: Path
) -> None:
    """A plain ETag equal to the MD5 needs no HeadObject; an opaque (multipart) ETag is
    settled by x-amz-meta-sha256, or uploaded when the object has none."""
    heads: list[str] = []
    s3.meta.events.register("before-call.s3.HeadObject", lambda **kw: heads.append("head"))
    body = b"same bytes"
    digest = hashlib.sha256(body).hexdigest()
    s3.put_object(Bucket=BUCKET, Key="posts/plain.md", Body=body)
    for key, metadata in (("posts/multi-meta.md", {"sha256": digest}), ("posts/multi.md", {})):
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, Metadata=metadata)
        part = s3.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=body
        )
        s3.complete_multipart_upload(
            Bucket=BUCKET,
            Key=key,
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
        )
    remote = list_bucket(s3, BUCKET, ["posts/"])
    assert not etag_is_md5(remote["posts/multi.md"].etag)

    def plan_for(key: str, path: Path) -> tuple[list[str], list[str]]:
        plan = sync_plan(
            s3, BUCKET, [PostUpload(path, key)], remote, prefix="posts/", gone=[], delete=False
        )
        return [u.key for u in plan.put], [u.key for u in plan.unchanged]

    local = tmp_path / "same-bytes.md"
    local.write_bytes(body)
    assert plan_for("posts/plain.md", local) == ([], ["posts/plain.md"])
    assert heads == []
    assert plan_for("posts/multi-meta.md", local) == ([], ["posts/multi-meta.md"])
    assert plan_for("posts/multi.md", local) == (["posts/multi.md"], [])
    assert len(heads) == 2
    local.write_bytes(b"same size!")  # as long as the object, other bytes
    assert plan_for("posts/plain.md", local) == (["posts/plain.md"], [])


def test_a_failed_upload_is_named_and_the_others_still_go(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {f"p{n}.md": POST.format(title=f"P{n}") for n in range(6)})

    def refuse_p3(params: dict[str, Any], **_: Any) -> None:
        if params["url_path"].endswith("/p3.md"):
            raise ConnectionError("injected: the network dropped")

    s3.meta.events.register("before-call.s3.PutObject", refuse_p3)
    failures = upload_all(s3, BUCKET, upload_plan([tmp_path], "posts/").uploads, jobs=3)

    assert [failure.key for failure in failures] == ["posts/p3.md"]
    assert "the network dropped" in failures[0].error
    assert keys(s3) == [f"posts/p{n}.md" for n in (0, 1, 2, 4, 5)]
    assert "6/6" in capsys.readouterr().err  # the bar counts the failed file as done


def test_exit_codes_for_usage_errors_a_missing_bucket_and_failures(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"a.md": POST.format(title="A"), "ignored/_b.md": "x", "ignored/c.md~": "x"})
    assert publish(capsys, str(tmp_path / "missing"))[0] == EXIT_USAGE
    assert publish(capsys, str(tmp_path / "ignored"))[0] == EXIT_USAGE
    assert publish(capsys, str(tmp_path), "--jobs", "0")[0] == EXIT_USAGE
    assert publish(capsys, str(tmp_path), "--since", "HEAD")[0] == EXIT_USAGE  # not in git
    args = build_parser().parse_args(["publish", str(tmp_path), "--bucket", "no-such-bucket"])
    assert run_publish(args) == EXIT_BUCKET
    assert "no-such-bucket" in capsys.readouterr().err

    boto3.setup_default_session()  # the command's client inherits the session's hooks
    session = boto3.DEFAULT_SESSION
    assert session is not None

    def refuse(**_: Any) -> None:
        raise ConnectionError("injected")

    session.events.register("before-call.s3.PutObject", refuse)
    code, summary, err = publish(capsys, str(tmp_path))
    boto3.DEFAULT_SESSION = None
    assert (code, summary["failed"], summary["uploaded"]) == (EXIT_FAILED, 1, 0)
    assert "failed posts/a.md: ConnectionError: injected" in err


def git(repo: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=repo, check=True, capture_output=True)


def test_since_maps_git_changes_below_the_folder(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    write(tmp_path, {"source/_posts/old.md": "old\n" * 20, "source/_posts/edit.md": "1"})
    write(tmp_path, {"source/_posts/del.md": "d", "other/x.md": "x", "_config.yml": "title: a"})
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "one")
    unchanged_config = since_selection([tmp_path / "source"], "_posts/", "HEAD", io.StringIO())
    git(tmp_path, "mv", "source/_posts/old.md", "source/_posts/new name.md")
    git(tmp_path, "rm", "-q", "source/_posts/del.md")
    write(tmp_path, {"source/_posts/edit.md": "2", "other/x.md": "y", "_config.yml": "title: b"})
    git(tmp_path, "commit", "-qam", "two")

    selection = since_selection([tmp_path / "source"], "_posts/", "HEAD~1", io.StringIO())

    assert sorted(key for _, key in selection.pairs) == [
        "_config.yml",  # Hexo's, beside source/: part of the blog
        "_posts/edit.md",
        "_posts/new name.md",
    ]
    assert unchanged_config.pairs == []
    assert sorted(selection.gone) == ["_posts/del.md", "_posts/old.md"]
    assert (selection.full, selection.scopes) == (False, [""])
    zeros = since_selection([tmp_path / "source"], "_posts/", "0" * 40, io.StringIO())
    assert zeros.full and sorted(key for _, key in zeros.pairs) == [
        "_config.yml",
        "_posts/edit.md",
        "_posts/new name.md",
    ]


def test_name_status_parsing_and_null_refs() -> None:
    output = b"M\0a.md\0R087\0old.md\0new.md\0D\0gone.md\0A\0x/\xc3\xa9.md\0"
    changes = parse_name_status(output, Path("/top"))
    assert changes.changed == [Path("/top/a.md"), Path("/top/new.md"), Path("/top/x/é.md")]
    assert changes.removed == [Path("/top/old.md"), Path("/top/gone.md")]
    assert is_null_ref("0000000000000000000000000000000000000000") and is_null_ref("")
    assert not is_null_ref("HEAD~1")


def test_the_publish_on_push_workflow_runs_the_documented_command() -> None:
    workflow = yaml.safe_load((REPO / "docs" / "publish-on-push.yml").read_text("utf-8"))
    job = workflow["jobs"]["publish"]
    steps = {step.get("uses", "").partition("@")[0]: step for step in job["steps"]}

    assert workflow["permissions"]["id-token"] == "write"
    assert steps["actions/checkout"]["with"]["fetch-depth"] == 0
    assert "role-to-assume" in steps["aws-actions/configure-aws-credentials"]["with"]
    command = next(step["run"] for step in job["steps"] if "blogpub publish" in step.get("run", ""))
    assert "blogpub publish source/ --since ${{ github.event.before }} --delete" in command
    filled = re.sub(r"\$\{\{ github\.event\.before \}\}", "0" * 40, command)
    arguments = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "bucket", filled))
    args = build_parser().parse_args(arguments[1:])
    assert (args.paths, args.since, args.delete, args.bucket) == (
        [Path("source/")],
        "0" * 40,
        True,
        "bucket",
    )
