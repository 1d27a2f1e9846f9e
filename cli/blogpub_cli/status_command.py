"""`blogpub status`: recent publishes and failures, read from the table.

The table is ``--table NAME``, else the ``TableName`` output of ``--stack NAME`` (a deployed
stack), else the running local stack's (its state file). ``--endpoint-url`` (default
``$AWS_ENDPOINT_URL``) points the client at another endpoint, such as the local stack's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from blogpub_cli.state import StackNotRunningError, read_state, state_file_path

if TYPE_CHECKING:
    from blogpub.table import PostTable

TABLE_OUTPUT = "TableName"
DEFAULT_LIMIT = 20


class StatusTargetError(Exception):
    """No table could be found to read; the message says how to name one."""


@dataclass(frozen=True)
class TableTarget:
    table: str
    region: str
    endpoint_url: str | None = None
    local: bool = False


def resolve_table(args: argparse.Namespace) -> TableTarget:
    if args.table:
        return TableTarget(args.table, args.region, args.endpoint_url)
    if args.stack:
        return TableTarget(stack_table(args.stack, args.region), args.region, args.endpoint_url)
    try:
        info = read_state(state_file_path(args.state))
    except StackNotRunningError as error:
        raise StatusTargetError(
            f"{error}; or name a table (--table NAME) or deployed stack (--stack NAME)"
        ) from error
    return TableTarget(info.table, info.region, args.endpoint_url or info.endpoint, local=True)


def stack_table(stack_name: str, region: str) -> str:
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    for output in stack.get("Outputs", []):
        if output.get("OutputKey") == TABLE_OUTPUT:
            return str(output["OutputValue"])
    raise StatusTargetError(f"stack {stack_name} has no {TABLE_OUTPUT} output")


def post_table(target: TableTarget) -> PostTable:
    import boto3
    from blogpub.table import PostTable  # boto3 is slow to import: not for `blogpub --help`

    local_key = "testing" if target.local else None  # moto takes any credentials
    dynamodb: Any = boto3.client(
        "dynamodb",
        region_name=target.region,
        endpoint_url=target.endpoint_url,
        aws_access_key_id=local_key,
        aws_secret_access_key=local_key,
    )
    return PostTable(dynamodb, target.table)


def cmd_status(args: argparse.Namespace) -> int:
    from blogpub.status import failure_counts, format_status, recent_activity, recent_failures

    try:
        target = resolve_table(args)
    except StatusTargetError as error:
        print(f"blogpub status: {error}", file=sys.stderr)
        return 2
    table = post_table(target)
    activity = recent_activity(table, args.limit)
    failures = recent_failures(table, args.limit)
    if args.json:
        answer = {
            "table": target.table,
            "activity": [line.as_dict() for line in activity],
            "failures": [line.as_dict() for line in failures],
            "failures_by_reason": failure_counts(failures),
        }
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        print(format_status(activity, failures))
    return 0


def add_status_command(commands: Any) -> None:
    status = commands.add_parser("status", help="recent publishes and failures")
    status.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="lines of each kind")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument("--table", help="the table's name (deployed stack)")
    status.add_argument("--stack", help="deployed stack name (reads its TableName output)")
    status.add_argument("--state", help="local stack state file (default: .blogpub/local.json)")
    status.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    status.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    status.set_defaults(run=cmd_status)
