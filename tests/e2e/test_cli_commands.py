"""The `blogpub` commands as a user runs them: local up/wait/run, invoke, publish."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import EVENTS, REPO, SEED_POST
from tests.e2e.conftest import BLOGPUB, RecordingStack, http_get, run_blogpub, s3_client

pytestmark = pytest.mark.e2e

READY_KEYS = {"endpoint", "site_url", "source_bucket", "site_bucket", "table", "distribution_id"}
BAD_DATE_POST = "---\ntitle: Broken\ndate: not a date at all\n---\nbody\n"


def local_run(posts: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`blogpub local run` of a folder into tmp_path/site, with its report in tmp_path/r.json."""
    site, report = tmp_path / "site", tmp_path / "r.json"
    arguments = ["local", "run", str(posts), "--out", str(site), "--report", str(report)]
    return run_blogpub(arguments, REPO)


def test_local_wait_exit_codes_follow_the_stack(
    recording_stack: RecordingStack, tmp_path: Path
) -> None:
    stack = recording_stack.stack
    assert stack.info is not None
    state = stack.info.state_file
    recording_stack.render.release.clear()  # the next render invocation blocks
    try:
        s3_client(stack).put_object(
            Bucket=stack.info.source_bucket, Key="_posts/slow.md", Body=b"x"
        )
        busy = run_blogpub(["local", "wait", "--timeout", "1", "--state", state], tmp_path)
        assert busy.returncode == 1, busy.stderr
        assert "still busy" in busy.stderr
    finally:
        recording_stack.render.release.set()
    idle = run_blogpub(["local", "wait", "--timeout", "30", "--state", state], tmp_path)
    assert idle.returncode == 0, idle.stderr
    missing = run_blogpub(["local", "wait", "--state", str(tmp_path / "none.json")], tmp_path)
    assert missing.returncode == 2 and "local up" in missing.stderr


def test_local_up_prints_ready_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    process = subprocess.Popen(
        [str(BLOGPUB), "local", "up", "--port", "0", "--site-port", "0", "--state", str(state)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        assert set(ready) >= READY_KEYS
        assert json.loads(state.read_text())["endpoint"] == ready["endpoint"]
        assert http_get(ready["site_url"] + "/missing/").status == 404
        env = {**os.environ, "AWS_ENDPOINT_URL": ready["endpoint"]}
        env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        published = subprocess.run(
            [str(BLOGPUB), "publish", str(SEED_POST), "--bucket", ready["source_bucket"]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert published.returncode == 0, published.stderr
        assert "1/1 _posts/000_d87f2d6de0cb2939.md" in published.stderr
        waited = run_blogpub(["local", "wait", "--timeout", "120", "--state", str(state)], REPO)
        assert waited.returncode == 0, waited.stderr
        assert http_get(ready["site_url"] + "/2022/02/05/000_d87f2d6de0cb2939/").status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0
    assert not state.exists()


def _posts(tmp_path: Path, files: dict[str, str]) -> Path:
    posts = tmp_path / "posts"
    for name, text in files.items():
        (posts / name).parent.mkdir(parents=True, exist_ok=True)
        (posts / name).write_text(text, encoding="utf-8")
    return posts


def test_local_run_builds_the_site_and_reports(tmp_path: Path) -> None:
    posts = _posts(
        tmp_path,
        {
            "_config.yml": "title: Run test\n",
            "000_seed.md": SEED_POST.read_text(encoding="utf-8"),
            "日记/第一 天.md": (
                "---\ntitle: 第一天\ndate: 2024-03-01 10:00:00\ntags: [日常]\n---\n你好\n"
            ),
        },
    )
    started = time.monotonic()
    result = local_run(posts, tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    statuses = {post["source_key"]: post["status"] for post in report["posts"]}
    assert statuses == {"_posts/000_seed.md": "published", "_posts/日记/第一 天.md": "published"}
    urls = [post["url"] for post in report["posts"]]
    for url in urls:
        assert (tmp_path / "site" / url.lstrip("/") / "index.html").is_file()
        assert url in report["pages_written"]
    assert (tmp_path / "site" / "index.html").is_file()
    assert "2 posts: 2 published" in result.stdout
    assert all("paths" in invalidation for invalidation in report["invalidations"])
    print(f"local run, 2 posts: {elapsed:.1f}s")


def test_local_run_exits_3_when_a_post_is_rejected(tmp_path: Path) -> None:
    posts = _posts(
        tmp_path,
        {"good.md": "---\ntitle: Good\ndate: 2024-01-01\n---\nok\n", "bad.md": BAD_DATE_POST},
    )
    result = local_run(posts, tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr[-3000:]
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    by_key = {post["source_key"]: post for post in report["posts"]}
    assert by_key["_posts/good.md"]["status"] == "published"
    assert by_key["_posts/bad.md"]["status"] == "rejected"
    assert "date" in by_key["_posts/bad.md"]["error"]
    assert "rejected _posts/bad.md" in result.stdout


def _invoke(
    function: str, event: Path, state: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    return run_blogpub(
        [
            "invoke",
            function,
            "-e",
            str(event),
            "--env-vars",
            str(EVENTS / "env.json"),
            "--state",
            state,
            "--template",
            str(REPO / "template.yaml"),
        ],
        tmp_path,
    )


@pytest.mark.parametrize(
    ("function", "event_file"),
    [
        ("RenderPostFunction", "s3-put.json"),
        ("RenderPostFunction", "s3-put-cjk.json"),
        ("RenderPostFunction", "s3-delete-marker.json"),
        ("RenderPostFunction", "sqs-wrapped-s3.json"),
        ("RenderPostFunction", "eventbridge-s3.json"),
        ("BuildIndexesFunction", "stream-batch.json"),
    ],
)
def test_invoke_runs_the_events_files(
    recording_stack: RecordingStack, tmp_path: Path, function: str, event_file: str
) -> None:
    """Against the recording stack's resources, so the site tests' table stays untouched."""
    info = recording_stack.stack.info
    assert info is not None
    result = _invoke(function, EVENTS / event_file, info.state_file, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    answer = json.loads(result.stdout)  # stdout is the result alone; logs went to stderr
    assert (
        ("results" in answer)
        if function == "RenderPostFunction"
        else ("batchItemFailures" in answer)
    )


def test_invoke_reports_a_handler_error_as_lambda_does(
    recording_stack: RecordingStack, tmp_path: Path
) -> None:
    info = recording_stack.stack.info
    assert info is not None
    event = tmp_path / "not-an-s3-event.json"
    event.write_text('{"unexpected": true}')
    result = _invoke("RenderPostFunction", event, info.state_file, tmp_path)
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert set(error) >= {"errorMessage", "errorType", "stackTrace"}
    assert "Traceback" in result.stderr


def test_invoke_unknown_function_names_the_known_ones(tmp_path: Path) -> None:
    event = tmp_path / "e.json"
    event.write_text("{}")
    result = run_blogpub(
        ["invoke", "NoSuchFunction", "-e", str(event), "--template", str(REPO / "template.yaml")],
        tmp_path,
    )
    assert result.returncode == 2
    assert "RenderPostFunction" in result.stderr
