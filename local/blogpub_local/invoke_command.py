"""`blogpub invoke`: what `sam local invoke` does, in this process and without Docker.

Handler, CodeUri and Environment come from the template; references resolve to the running
local stack (its state file) when there is one, else to the names in env.json or to
placeholders. The result goes to stdout as JSON, the function's logs to stderr.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Collection, Mapping
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from blogpub_cli.state import StackInfo, StackNotRunningError, query_idle, read_state
from blogpub_local import cfn_yaml
from blogpub_local.lambda_runtime import EnvironmentGate, LocalFunction
from blogpub_local.resources import placeholder_names
from blogpub_local.template import (
    ACCOUNT_ID,
    STACK_NAME,
    IntrinsicResolver,
    TemplateError,
    function_spec,
    resolver_for,
    serverless_functions,
)

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def env_overrides(env_vars: Mapping[str, Any], logical_id: str) -> dict[str, str]:
    """SAM's env.json: "Parameters" apply to every function, "<LogicalId>" to that one."""
    overrides: dict[str, str] = {}
    for section in ("Parameters", logical_id):
        values = env_vars.get(section) or {}
        overrides.update({str(name): str(value) for name, value in values.items()})
    return overrides


def apply_overrides(
    environment: Mapping[str, str],
    overrides: Mapping[str, str],
    stack_names: Collection[str] = (),
) -> dict[str, str]:
    """As SAM does, env.json only sets variables the template declares for the function.

    A variable that names a resource of the running local stack keeps that name: env.json
    describes a deployed stack, the local one has its own buckets and table.
    """
    return {
        name: value if value in stack_names else overrides.get(name, value)
        for name, value in environment.items()
    }


def stack_resource_names(info: StackInfo | None) -> set[str]:
    if info is None:
        return set()
    return set(info.refs.values()) | {str(value) for value in info.attributes.values()}


def running_stack(state_path: Path) -> StackInfo | None:
    """The local stack named by the state file, when it answers."""
    try:
        info = read_state(state_path)
        query_idle(info.control_url, timeout=2)
    except StackNotRunningError:
        return None
    return info


def stack_resolver(
    template: Mapping[str, Any], info: StackInfo | None, region: str
) -> IntrinsicResolver:
    if info is None:
        resolver = resolver_for(template, region, STACK_NAME)
    else:
        resolver = resolver_for(template, info.region, info.stack_name)
    placeholder_names(template, resolver)
    if info is not None:
        resolver.refs.update(info.refs)
        for name, value in info.attributes.items():
            logical_id, _, attribute = name.partition(".")
            resolver.attributes[(logical_id, attribute)] = value
    return resolver


def invoke(
    template_path: Path,
    logical_id: str,
    event: Any,
    *,
    env_vars: Mapping[str, Any],
    state_path: Path,
    region: str,
    endpoint_url: str | None,
    out: TextIO,
) -> int:
    template = cfn_yaml.load_template(template_path)
    functions = serverless_functions(template)
    if logical_id not in functions:
        known = ", ".join(sorted(functions))
        raise TemplateError(f"template has no function {logical_id!r} (functions: {known})")
    info = running_stack(state_path)
    resolver = stack_resolver(template, info, region)
    spec = function_spec(
        logical_id, functions[logical_id], resolver, template_path.resolve().parent
    )
    environment = apply_overrides(
        spec.environment, env_overrides(env_vars, logical_id), stack_resource_names(info)
    )
    base: dict[str, str] = {"AWS_DEFAULT_REGION": resolver.region, "AWS_REGION": resolver.region}
    endpoint = endpoint_url or (info.endpoint if info else None)
    if endpoint:
        base["AWS_ENDPOINT_URL"] = endpoint
    if info is not None:
        base |= LOCAL_CREDENTIALS
    base.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    function = LocalFunction(
        replace(spec, environment=environment),
        EnvironmentGate(base),
        region=resolver.region,
        account_id=ACCOUNT_ID,
    )
    # Lambda's log lines (Powertools writes to stdout) belong on stderr, as sam prints them.
    with redirect_stdout(sys.stderr):
        result = function.invoke(event)
    if result.error is not None:
        traceback.print_exception(result.error, file=sys.stderr)
    out.write(json.dumps(result.payload, ensure_ascii=False) + "\n")
    return 1 if result.failed else 0
