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
from typing import TYPE_CHECKING, Any

from blogpub_cli.targets import Target, TargetError, aws_client, resolve_target, stack_output

if TYPE_CHECKING:
    from blogpub.table import PostTable

TABLE_OUTPUT = "TableName"
DEFAULT_LIMIT = 20


def resolve_table(args: argparse.Namespace) -> Target:
    return resolve_target(
        args,
        args.table,
        from_stack=lambda stack: stack_output(stack, TABLE_OUTPUT, args.region),
        from_local=lambda info, _: info.table,
        not_running="name a table (--table NAME) or deployed stack (--stack NAME)",
    )


def post_table(target: Target) -> PostTable:
    from blogpub.table import PostTable  # slow to import: not for `blogpub --help`

    return PostTable(aws_client("dynamodb", target), target.name)


def cmd_status(args: argparse.Namespace) -> int:
    from blogpub.status import failure_counts, format_status, recent_activity, recent_failures

    try:
        target = resolve_table(args)
    except TargetError as error:
        print(f"blogpub status: {error}", file=sys.stderr)
        return 2
    table = post_table(target)
    activity = recent_activity(table, args.limit)
    failures = recent_failures(table, args.limit)
    if args.json:
        answer = {
            "table": target.name,
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
