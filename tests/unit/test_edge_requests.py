"""The viewer-request rules, run twice from one table (tests/edge_requests.json).

The same cases drive the CloudFront Function's JavaScript from template.yaml (run with node,
in strict mode as CloudFront runs it) and the local site server's Python mirror: the site
below ``SiteRoot``, Hexo's ``page/N`` listing URLs answering 301 with the listing's own page,
and directory indexes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from blogpub_local.cfn_yaml import load_template
from blogpub_local.site_server import object_key_candidates, viewer_request
from blogpub_local.template import resolver_for

from tests.conftest import REPO

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent.parent / "edge_requests.json").read_text(encoding="utf-8")
)
ROOTS = sorted({case["root"] for case in CASES})
# CloudFront's quota on a function's code.
MAX_FUNCTION_BYTES = 10 * 1024

# Runs the function as CloudFront does (strict mode, one viewer-request event per case) and
# prints what it returned for each.
NODE_HARNESS = r"""
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const handler = new Function('"use strict";\n' + input.code + '\nreturn handler;')();
const results = input.uris.map((uri) => {
  const event = {
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: '127.0.0.1' },
    request: { method: 'GET', uri: uri, querystring: {}, headers: {}, cookies: {} },
  };
  const out = handler(event);
  if (out.statusCode !== undefined) {
    const location = out.headers && out.headers.location ? out.headers.location.value : '';
    return { status: out.statusCode, location: location };
  }
  return { uri: out.uri };
});
process.stdout.write(JSON.stringify(results));
"""


def function_code(root: str) -> str:
    template = load_template(REPO / "template.yaml")
    resolver = resolver_for(template, "us-east-1", "blogpub", {"SiteRoot": root})
    code = resolver.resolve(
        template["Resources"]["DirectoryIndexFunction"]["Properties"]["FunctionCode"]
    )
    assert isinstance(code, str)
    return code


def run_function(root: str, uris: list[str]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not installed: the CloudFront Function's JavaScript is tested with it "
            "(apt-get install nodejs)"
        )
    payload = json.dumps({"code": function_code(root), "uris": uris})
    done = subprocess.run(
        [node, "-e", NODE_HARNESS],
        check=False,
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def case_id(case: dict[str, Any]) -> str:
    return f"{case['root']} {case['uri']}"


def test_the_table_covers_every_hexo_pagination_form() -> None:
    redirected = [case["uri"] for case in CASES if case.get("status") == 301]
    for form in ("/page/", "/archives/page/", "/categories/", "/tags/", "/archives/2022/"):
        assert any(uri.startswith(form) and "/page/" in uri for uri in redirected), form
    assert any(case["root"] != "/" and case.get("status") == 301 for case in CASES)
    assert any(case.get("status") == 404 for case in CASES)


@pytest.mark.parametrize("root", ROOTS)
def test_the_cloudfront_function_answers_each_case(root: str) -> None:
    cases = [case for case in CASES if case["root"] == root]
    results = run_function(root, [case["uri"] for case in cases])
    for case, result in zip(cases, results, strict=True):
        if "origin" in case:
            assert result == {"uri": case["origin"]}, case_id(case)
        else:
            assert result == {"status": case["status"], "location": case.get("location", "")}, (
                case_id(case)
            )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_local_site_server_answers_each_case(case: dict[str, Any]) -> None:
    decided = viewer_request(case["uri"], case["root"])
    if "origin" in case:
        assert (decided.status, decided.path) == (None, case["forward"])
        # S3 keys are the decoded path (CloudFront decodes the URI for the S3 origin).
        assert unquote(case["origin"]).lstrip("/") in object_key_candidates(decided.path)
    else:
        assert (decided.status, decided.location) == (case["status"], case.get("location", ""))


def test_a_query_string_is_not_part_of_the_decision() -> None:
    assert viewer_request("/page/3/?utm=x", "/").location == "/"
    assert viewer_request("/blog/a/?q=1", "/blog/").path == "/a/"


@pytest.mark.parametrize("root", ["/", "/a-rather-long-site-root/with/three/levels/"])
def test_the_function_fits_cloudfronts_size_quota(root: str) -> None:
    assert len(function_code(root).encode("utf-8")) <= MAX_FUNCTION_BYTES
