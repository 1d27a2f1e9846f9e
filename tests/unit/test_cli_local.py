"""Pure parts of the CLI: site paths, upload plans, the run report, env.json overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from blogpub.table import PostRecord
from blogpub_cli.main import build_parser
from blogpub_cli.upload import UploadPathError, progress_line, skipped_summary, upload_plan
from blogpub_local.invoke_command import apply_overrides, env_overrides
from blogpub_local.local_commands import (
    EXIT_INTERNAL_ERROR,
    EXIT_OK,
    EXIT_REJECTED,
    PostReport,
    RunReport,
    post_report,
)
from blogpub_local.site_server import object_key_candidates

from tests.conftest import REPO


def test_site_paths_map_to_index_documents() -> None:
    assert object_key_candidates("/") == ["index.html"]
    assert object_key_candidates("/a/b/") == ["a/b/index.html"]
    assert object_key_candidates("/a/b") == ["a/b", "a/b/index.html"]
    assert object_key_candidates("/%E4%BD%A0%20x/?q=1") == ["你 x/index.html"]


def test_upload_plan_keeps_relative_paths_and_puts_config_first(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.md").write_text("x")
    (tmp_path / "c.markdown").write_text("x")
    (tmp_path / "_config.yml").write_text("title: t")
    plan = upload_plan([tmp_path], "_posts")
    assert [u.key for u in plan.uploads] == ["_config.yml", "_posts/a/b.md", "_posts/c.markdown"]
    assert plan.uploads[0].content_type.startswith("text/yaml")
    assert plan.uploads[1].content_type.startswith("text/markdown")
    single = upload_plan([tmp_path / "a" / "b.md"], "_posts/")
    assert [u.key for u in single.uploads] == ["_posts/b.md"]
    with pytest.raises(UploadPathError, match="missing"):
        upload_plan([tmp_path / "missing"], "_posts/")


def test_a_hexo_source_folder_keeps_its_own_paths_and_every_kind_classify_publishes() -> None:
    source = REPO / "examples" / "hexo-source"
    plan = upload_plan([source], "_posts/")
    keys = [upload.key for upload in plan.uploads]
    assert keys[0] == "_config.yml"
    assert sorted(keys[1:]) == [
        "_posts/hello-assets.md",
        "_posts/hello-assets/diagram.svg",  # post_asset_folder: true in its _config.yml
        "_posts/hello-assets/notes.txt",
        "about/index.md",
        "files/readme.txt",
        "images/gradient.png",
        "images/logo.svg",
    ]
    assert [path.name for path in plan.skipped] == ["unfinished.md"]  # _drafts/
    types = {upload.key: upload.content_type for upload in plan.uploads}
    assert types["images/gradient.png"] == "image/png"
    assert types["images/logo.svg"] == "image/svg+xml; charset=utf-8"


def test_upload_plan_skips_and_reports_what_the_pipeline_would_ignore(tmp_path: Path) -> None:
    for name in ("ok.md", "Post.MD", "_x.md", "notes.txt", "draft.md~", ".hidden/d.md", "_b/c.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")

    plan = upload_plan([tmp_path], "_posts/")

    assert [u.key for u in plan.uploads] == ["_posts/ok.md"]
    skipped = sorted(path.relative_to(tmp_path).as_posix() for path in plan.skipped)
    assert skipped == [".hidden/d.md", "Post.MD", "_b/c.md", "_x.md", "draft.md~", "notes.txt"]
    assert upload_plan([tmp_path / "Post.MD"], "_posts/").uploads == []
    assert skipped_summary(plan.skipped, shown=2).startswith("skipped 6 files that are not posts: ")
    assert skipped_summary(plan.skipped, shown=2).endswith(" and 4 more")


def test_progress_line_fills_with_the_count() -> None:
    assert progress_line(0, 4, "x", width=8) == "[........] 0/4 x"
    assert progress_line(2, 4, "y", width=8) == "[####....] 2/4 y"


def test_post_report_reads_the_post_item() -> None:
    published = post_report(
        "_posts/a.md",
        PostRecord("_posts/a.md", "1", status="published", last_outcome="published", url="/a/"),
    )
    assert (published.status, published.url, published.error) == ("published", "/a/", None)
    rejected = post_report(
        "_posts/b.md",
        PostRecord("_posts/b.md", "2", last_outcome="rejected", last_error="bad date"),
    )
    assert (rejected.status, rejected.error) == ("rejected", "bad date")
    assert post_report("_posts/c.md", None).status == "rejected"


def test_run_report_exit_codes() -> None:
    ok = RunReport(
        posts=[
            PostReport("a", "published", "/a/", None),
            PostReport("d", "unpublished", None, None),
        ]
    )
    assert ok.exit_code == EXIT_OK
    ok.posts.append(PostReport("b", "rejected", None, "bad"))
    assert ok.exit_code == EXIT_REJECTED
    assert RunReport(idle=False).exit_code == EXIT_INTERNAL_ERROR
    assert RunReport(function_errors=[{"function": "F", "errorMessage": "x"}]).exit_code == 1


def test_env_json_overrides_only_declared_variables() -> None:
    env_vars = {"Parameters": {"TABLE_NAME": "t", "OTHER": "o"}, "F": {"SITE_BUCKET": "s"}}
    overrides = env_overrides(env_vars, "F")
    assert apply_overrides({"TABLE_NAME": "x", "SITE_BUCKET": "y", "KEEP": "k"}, overrides) == {
        "TABLE_NAME": "t",
        "SITE_BUCKET": "s",
        "KEEP": "k",
    }


def test_parser_knows_every_command() -> None:
    parser = build_parser()
    up = parser.parse_args(["local", "up", "--port", "0", "--site-port", "0"])
    assert (up.port, up.site_port) == (0, 0)
    run = parser.parse_args(["local", "run", "p", "--out", "o", "--report", "r.json"])
    assert run.out == Path("o")
    invoke = parser.parse_args(["invoke", "F", "-e", "e.json", "--env-vars", "env.json"])
    assert invoke.function == "F"
    publish = parser.parse_args(["publish", "a", "b", "--bucket", "x"])
    assert publish.prefix == "_posts/"


def test_publish_uploads_only_posts_and_reports_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3
    from blogpub_cli.main import cmd_publish
    from moto import mock_aws

    for name in ("ok.md", "Post.MD", "_x.md"):
        (tmp_path / name).write_text("---\ndate: 2022-02-05\n---\nx\n")
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="source")
        args = build_parser().parse_args(["publish", str(tmp_path), "--bucket", "source"])

        assert cmd_publish(args) == 0

        stored = [item["Key"] for item in s3.list_objects_v2(Bucket="source")["Contents"]]
    assert stored == ["_posts/ok.md"]
    assert "skipped 2 files that are not posts" in capsys.readouterr().err


def test_run_report_names_the_files_the_pipeline_would_ignore() -> None:
    report = RunReport(skipped=["_posts/_draft.md", "_posts/Notes.MD"])

    assert report.to_json()["skipped"] == ["_posts/_draft.md", "_posts/Notes.MD"]
    assert "skipped 2 files that are not posts: _posts/_draft.md, _posts/Notes.MD" in (
        report.summary(Path("_site"))
    )
    assert report.exit_code == EXIT_OK


def test_parameter_overrides_take_both_of_sams_spellings() -> None:
    from blogpub_cli.main import parameter_overrides

    assert parameter_overrides(
        ["PrivacyEmbeds=true", "ParameterKey=SiteRoot,ParameterValue=/blog/", "Empty="]
    ) == {"PrivacyEmbeds": "true", "SiteRoot": "/blog/", "Empty": ""}
    with pytest.raises(ValueError, match="'PrivacyEmbeds' is not Key=Value"):
        parameter_overrides(["PrivacyEmbeds"])


def test_local_stack_options_carry_the_parameters_and_the_stack_checks_them() -> None:
    from blogpub_cli.main import _stack_options
    from blogpub_local.stack import LocalStack
    from blogpub_local.template import TemplateError

    args = build_parser().parse_args(
        ["local", "run", "posts", "--out", "site", "--parameter-overrides", "PrivacyEmbeds=true"]
    )
    options = _stack_options(args, port=0, site_port=0, state=None)
    assert options.parameters == {"PrivacyEmbeds": "true"}
    csp = dict(LocalStack(options).edge_behaviour().headers)["Content-Security-Policy"]
    assert "frame-src https://www.youtube-nocookie.com" in csp

    for wrong, problem in [
        ("PrivacyEmbed=true", "'PrivacyEmbed' is not declared"),
        ("PrivacyEmbeds=yes", "'PrivacyEmbeds' must be one of"),
    ]:
        args.parameter_overrides = [wrong]
        with pytest.raises(TemplateError, match=problem):
            LocalStack(_stack_options(args, port=0, site_port=0, state=None))


def test_local_run_names_a_bad_parameter_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from blogpub_cli.main import main

    for wrong in ("PrivacyEmbeds", "Nope=1"):
        code = main(
            [
                "local",
                "run",
                str(tmp_path),
                "--out",
                str(tmp_path / "site"),
                "--parameter-overrides",
                wrong,
            ]
        )
        assert code == 2
        assert wrong.split("=")[0] in capsys.readouterr().err
