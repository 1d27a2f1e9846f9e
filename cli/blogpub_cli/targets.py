"""Which resource a command acts on, and how to reach the account it lives in.

`status`, the admin verbs and `replay` name their target the same way: explicitly (a table,
function or queue), through ``--stack`` (a deployed stack), or else through the running
local stack's state file, whose moto endpoint then answers the calls (with any credentials).
``--endpoint-url`` overrides the endpoint either way; ``--region`` is the region unless the
local stack names its own.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from blogpub_cli.state import StackInfo, StackNotRunningError, read_state, state_file_path


class TargetError(Exception):
    """The target could not be found; the message says how to name it."""


@dataclass(frozen=True)
class Target:
    """A resource's name (or URL), and how to reach the account it lives in."""

    name: str
    region: str
    endpoint_url: str | None = None
    local: bool = False


def resolve_target(
    args: argparse.Namespace,
    explicit: str | None,
    *,
    from_stack: Callable[[str], str],
    from_local: Callable[[StackInfo, Target], str],
    not_running: str | Callable[[], str],
) -> Target:
    """The target ``explicit`` names, else ``--stack``'s, else the local stack's.

    ``from_stack`` maps the deployed stack's name to the target's; ``from_local`` finds it in
    the local stack (given the state and the still unnamed local target). Without a local
    stack, ``not_running`` is either how else to name the target (a TargetError says so after
    the state file's own message) or a function that finds it by ``--region`` and
    ``--endpoint-url`` alone.
    """
    if explicit:
        return Target(explicit, args.region, args.endpoint_url)
    if args.stack:
        return Target(from_stack(args.stack), args.region, args.endpoint_url)
    try:
        info = read_state(state_file_path(args.state))
    except StackNotRunningError as error:
        if isinstance(not_running, str):
            raise TargetError(f"{error}; or {not_running}") from error
        return Target(not_running(), args.region, args.endpoint_url)
    local = Target("", info.region, args.endpoint_url or info.endpoint, local=True)
    return replace(local, name=from_local(info, local))


def stack_output(stack_name: str, output_key: str, region: str) -> str:
    """An output of a deployed stack; TargetError when the stack has no such output."""
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    for output in stack.get("Outputs", []):
        if output.get("OutputKey") == output_key:
            return str(output["OutputValue"])
    raise TargetError(f"stack {stack_name} has no {output_key} output")


def aws_client(service: str, target: Target, config: Any = None) -> Any:
    """A boto3 client for ``service`` in the target's account."""
    import boto3  # slow to import: not for `blogpub --help`

    local_key = "testing" if target.local else None  # moto takes any credentials
    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=target.region,
        endpoint_url=target.endpoint_url,
        aws_access_key_id=local_key,
        aws_secret_access_key=local_key,
        config=config,
    )
