"""`blogpub history | rollback | rebuild | verify`: invoke RollbackFunction for an admin.

The function is found, in this order, by ``--function`` (a name or ARN), by ``--stack`` (the
deployed stack's ``RollbackFunctionName`` output) or in the running local stack's state
file, whose moto port also answers Lambda's Invoke API. Every request gets a fresh
``request_id``; botocore's own retries resend it, so a retried call is not carried out twice.
The function's answer is printed as JSON; the exit code is 0 when it did what was asked,
3 when it refused (the answer says why) and 1 when the invocation failed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import uuid
from typing import Any

from blogpub_cli.state import StackInfo
from blogpub_cli.targets import Target, TargetError, aws_client, resolve_target, stack_output

ROLLBACK_FUNCTION = "RollbackFunction"
FUNCTION_OUTPUT = "RollbackFunctionName"
EXIT_REFUSED = 3
EXIT_FAILED = 1
# A site rollback or verify of a large site may run for minutes (the function's timeout).
READ_TIMEOUT_SECONDS = 900


def admin_payload(args: argparse.Namespace) -> dict[str, Any]:
    """The RollbackFunction payload a command line asks for."""
    payload: dict[str, Any] = {"action": args.action}
    if args.action == "rollback" and args.at is not None:
        payload["action"] = "rollback-site"
        payload["at"] = args.at
    if getattr(args, "key", None):
        payload["key"] = args.key
    if getattr(args, "version_id", None):
        payload["version_id"] = args.version_id
    if getattr(args, "steps", None) is not None:
        payload["steps"] = args.steps
    if getattr(args, "dry_run", False):
        payload["dry_run"] = True
    if payload["action"] in ("rollback", "rollback-site", "rebuild"):
        payload["request_id"] = args.request_id or str(uuid.uuid4())
        payload["requested_by"] = args.requested_by
        if args.reason:
            payload["reason"] = args.reason
    return payload


def check_rollback_arguments(args: argparse.Namespace) -> str | None:
    """What is wrong with a `rollback` command line, or None."""
    if args.action != "rollback":
        return None
    if args.at is not None and args.key:
        return "give a post KEY with --version-id/--steps, or --at alone for the whole site"
    if args.at is None and not args.key:
        return "name the post to roll back (KEY), or give --at to roll back the whole site"
    return None


def resolve_function(args: argparse.Namespace) -> Target:
    return resolve_target(
        args,
        args.function,
        from_stack=lambda stack: stack_output(stack, FUNCTION_OUTPUT, args.region),
        from_local=lambda info, _: local_function(info),
        not_running="name a deployed stack (--stack NAME) or function (--function NAME)",
    )


def local_function(info: StackInfo) -> str:
    name = info.functions.get(ROLLBACK_FUNCTION)
    if not name:
        raise TargetError(f"the local stack in {info.state_file} has no {ROLLBACK_FUNCTION}")
    return name


def invoke(target: Target, payload: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The function's answer, and whether the invocation itself failed."""
    from botocore.config import Config

    config = Config(read_timeout=READ_TIMEOUT_SECONDS, retries={"max_attempts": 3})
    client = aws_client("lambda", target, config)
    response = client.invoke(FunctionName=target.name, Payload=json.dumps(payload).encode("utf-8"))
    answer = json.loads(response["Payload"].read() or b"null")
    return answer if isinstance(answer, dict) else {"answer": answer}, "FunctionError" in response


def cmd_admin(args: argparse.Namespace) -> int:
    problem = check_rollback_arguments(args)
    if problem:
        print(f"blogpub {args.action}: {problem}", file=sys.stderr)
        return 2
    try:
        target = resolve_function(args)
    except TargetError as error:
        print(f"blogpub {args.action}: {error}", file=sys.stderr)
        return 2
    answer, failed = invoke(target, admin_payload(args))
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    if failed:
        return EXIT_FAILED
    return 0 if answer.get("ok") else EXIT_REFUSED


def _target_arguments(command: argparse.ArgumentParser) -> None:
    where = command.add_argument_group("which RollbackFunction (default: the local stack)")
    where.add_argument("--function", help="deployed function name or ARN")
    where.add_argument("--stack", help="deployed stack name (reads its RollbackFunctionName)")
    where.add_argument("--state", help="local stack state file (default: .blogpub/local.json)")
    where.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    where.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def _audit_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--reason", help="why; kept in the audit trail")
    command.add_argument(
        "--requested-by", default=getpass.getuser(), help="who asks (default: your user name)"
    )
    command.add_argument("--request-id", help="reuse an id to retry a request (default: new)")


def add_admin_commands(commands: Any) -> None:
    """Register the admin verbs on the `blogpub` subcommand parser."""
    history = commands.add_parser("history", help="a post's versions and what became of each")
    history.add_argument("key", metavar="KEY", help="source key, e.g. _posts/x.md")
    history.set_defaults(action="history")

    rollback = commands.add_parser(
        "rollback", help="restore an earlier version of a post, or of the whole site"
    )
    rollback.add_argument("key", metavar="KEY", nargs="?", help="the post (omit with --at)")
    to = rollback.add_mutually_exclusive_group(required=True)
    to.add_argument("--version-id", help="make this version current again")
    to.add_argument("--steps", type=int, help="go N versions back (1 undoes the last change)")
    to.add_argument("--at", metavar="TIME", help="the whole site as it was at TIME (ISO 8601)")
    rollback.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    _audit_arguments(rollback)
    rollback.set_defaults(action="rollback")

    rebuild = commands.add_parser("rebuild", help="re-render every post and index page")
    _audit_arguments(rebuild)
    rebuild.set_defaults(action="rebuild")

    verify = commands.add_parser("verify", help="report drift between source, table and site")
    verify.set_defaults(action="verify")

    for command in (history, rollback, rebuild, verify):
        _target_arguments(command)
        command.set_defaults(run=cmd_admin)
