"""Tracing: the X-Ray SDK loads only when the function is traced (Powertools' rule)."""

from __future__ import annotations

import pytest
from blogpub.observability import tracing_enabled

from tests.conftest import REPO, fresh_interpreter

LAYER = REPO / "layers" / "blogpub"
# A sampled trace, as Lambda sets it for an invocation with active tracing.
TRACE_HEADER = "Root=1-6789abcd-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.mark.parametrize(
    ("environ", "traced"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_CHALICE_CLI_MODE": "true"}, False),
        ({}, False),
    ],
)
def test_tracing_follows_powertools_rule(environ: dict[str, str], traced: bool) -> None:
    assert tracing_enabled(environ) is traced


def traced_call(extra_env: dict[str, str]) -> dict[str, object]:
    """A handler wrapped by the LazyTracer, called once in a fresh interpreter."""
    program = (
        "import json, sys\n"
        "from blogpub.observability import tracer\n"
        "@tracer.capture_lambda_handler\n"
        "def handler(event, context):\n"
        "    return {'doubled': event['n'] * 2}\n"
        "before = 'aws_xray_sdk' in sys.modules\n"
        "answer = handler({'n': 21}, None)\n"
        "print(json.dumps({'answer': answer, 'before': before,\n"
        "                  'after': 'aws_xray_sdk' in sys.modules}))\n"
    )
    answer: dict[str, object] = fresh_interpreter(program, extra_env, [str(LAYER)])
    return answer


def test_a_handler_with_tracing_off_runs_without_the_xray_sdk() -> None:
    # Given a Lambda environment whose template left XRayTracing at PassThrough
    env = {"LAMBDA_TASK_ROOT": str(LAYER), "POWERTOOLS_TRACE_DISABLED": "true"}
    # When the traced handler runs its first event
    call = traced_call(env)
    # Then it answered, and the X-Ray SDK was never imported
    assert call == {"answer": {"doubled": 42}, "before": False, "after": False}


def test_a_handler_with_tracing_on_loads_the_xray_sdk_on_its_first_event() -> None:
    # Given a Lambda environment deployed with XRayTracing=Active, in a sampled invocation
    env = {
        "LAMBDA_TASK_ROOT": str(LAYER),
        "POWERTOOLS_TRACE_DISABLED": "false",
        "_X_AMZN_TRACE_ID": TRACE_HEADER,
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    }
    # When the traced handler runs its first event
    call = traced_call(env)
    # Then the SDK loaded with that event, not at import, and the answer is unchanged
    assert call == {"answer": {"doubled": 42}, "before": False, "after": True}
