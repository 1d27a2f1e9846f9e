"""The `blogpub` command: the local stack, in-process invoke, and publishing posts.

Heavy modules (moto, boto3, the stack) are imported inside the subcommands that use them,
so `blogpub --help` and `blogpub local wait` start quickly. The local stack (blogpub_local)
runs on moto, which only the `local` extra installs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from blogpub.config import DEFAULT_POSTS_PREFIX
from blogpub_cli.admin_commands import add_admin_commands
from blogpub_cli.publish_command import EXIT_CODES_HELP, add_publish_arguments
from blogpub_cli.replay_command import add_replay_command
from blogpub_cli.state import StackNotRunningError, read_state, state_file_path, wait_until_idle
from blogpub_cli.status_command import add_status_command

if TYPE_CHECKING:
    from blogpub_local.stack import StackOptions

DEFAULT_PORT = 4566
DEFAULT_SITE_PORT = 8080
DEFAULT_TEMPLATE = Path("template.yaml")
LOCAL_EXTRA_MISSING = "the local stack needs `pip install blogpub[local]`"
# What the `local` extra brings: a missing one means the extra is not installed.
LOCAL_EXTRA_MODULES = frozenset({"moto", "werkzeug", "flask", "flask_cors"})


def local_extra_missing(command: str, error: ModuleNotFoundError) -> int:
    """Exit status 2 with the install hint, when ``error`` is the `local` extra's absence."""
    if (error.name or "").partition(".")[0] not in LOCAL_EXTRA_MODULES:
        raise error
    print(
        f"blogpub {command}: {LOCAL_EXTRA_MISSING} (no module named {error.name!r})",
        file=sys.stderr,
    )
    return 2


def find_template(explicit: Path | None) -> Path:
    """--template, else template.yaml in the working directory, else the project's own."""
    if explicit is not None:
        return explicit
    if DEFAULT_TEMPLATE.is_file():
        return DEFAULT_TEMPLATE
    project_template = Path(__file__).resolve().parents[2] / "template.yaml"
    return project_template if project_template.is_file() else DEFAULT_TEMPLATE


def parameter_overrides(values: list[str]) -> dict[str, str]:
    """``sam deploy --parameter-overrides`` syntax: ``Key=Value`` or
    ``ParameterKey=Key,ParameterValue=Value``, one per argument."""
    overrides: dict[str, str] = {}
    for value in values:
        if value.startswith("ParameterKey="):
            key_part, separator, value_part = value.partition(",ParameterValue=")
            name, given = key_part.removeprefix("ParameterKey="), value_part
        else:
            name, separator, given = value.partition("=")
        if not separator or not name:
            raise ValueError(f"--parameter-overrides: {value!r} is not Key=Value")
        overrides[name] = given
    return overrides


def _stack_options(
    args: argparse.Namespace, *, port: int, site_port: int, state: Path | None
) -> StackOptions:
    from blogpub_local.stack import StackOptions

    return StackOptions(
        template_path=find_template(args.template),
        port=port,
        site_port=site_port,
        host=args.host,
        region=args.region,
        state_file=state,
        parameters=parameter_overrides(args.parameter_overrides),
    )


def cmd_local_up(args: argparse.Namespace) -> int:
    try:
        from blogpub_local.local_commands import serve_until_signalled
    except ModuleNotFoundError as error:
        return local_extra_missing("local up", error)

    from blogpub_local.template import TemplateError

    ready_out = sys.stdout
    sys.stdout = sys.stderr  # function logs (Powertools prints to stdout) go to stderr
    try:
        options = _stack_options(
            args,
            port=args.port,
            site_port=args.site_port,
            state=state_file_path(args.state).resolve(),
        )
    except ValueError as error:
        print(f"blogpub local up: {error}", file=sys.stderr)
        return 2
    try:
        return serve_until_signalled(options, ready_out)
    except TemplateError as error:
        print(f"blogpub local up: {error}", file=sys.stderr)
        return 2


def cmd_local_wait(args: argparse.Namespace) -> int:
    try:
        info = read_state(state_file_path(args.state))
        idle = wait_until_idle(info.control_url, args.timeout)
    except StackNotRunningError as error:
        print(f"blogpub local wait: {error}", file=sys.stderr)
        return 2
    if not idle:
        print(f"blogpub local wait: still busy after {args.timeout:g}s", file=sys.stderr)
    return 0 if idle else 1


def cmd_local_run(args: argparse.Namespace) -> int:
    try:
        from blogpub_local.local_commands import run_once
    except ModuleNotFoundError as error:
        return local_extra_missing("local run", error)

    from blogpub_local.template import TemplateError

    summary_out = sys.stdout
    sys.stdout = sys.stderr
    try:
        options = _stack_options(args, port=0, site_port=0, state=None)
    except ValueError as error:
        print(f"blogpub local run: {error}", file=sys.stderr)
        return 2
    try:
        return run_once(
            options,
            args.posts_dir,
            args.out,
            report_path=args.report,
            timeout=args.timeout,
            out=summary_out,
        )
    except TemplateError as error:
        print(f"blogpub local run: {error}", file=sys.stderr)
        return 2


def cmd_invoke(args: argparse.Namespace) -> int:
    try:
        from blogpub_local.invoke_command import invoke
        from blogpub_local.template import TemplateError
    except ModuleNotFoundError as error:
        return local_extra_missing("invoke", error)

    event_text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text("utf-8")
    env_vars = json.loads(args.env_vars.read_text("utf-8")) if args.env_vars else {}
    try:
        return invoke(
            find_template(args.template),
            args.function,
            json.loads(event_text) if event_text.strip() else {},
            env_vars=env_vars,
            state_path=state_file_path(args.state),
            region=args.region,
            endpoint_url=args.endpoint_url,
            out=sys.stdout,
        )
    except TemplateError as error:
        print(f"blogpub invoke: {error}", file=sys.stderr)
        return 2


def cmd_publish(args: argparse.Namespace) -> int:
    from blogpub_cli.publish_command import run_publish

    return run_publish(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="blogpub", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def stack_arguments(command: argparse.ArgumentParser) -> None:
        command.add_argument("--template", type=Path, help="SAM template (default: template.yaml)")
        command.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument(
            "--parameter-overrides",
            nargs="+",
            default=[],
            metavar="KEY=VALUE",
            help="template parameters, as sam deploy takes them (e.g. PrivacyEmbeds=true)",
        )

    local = commands.add_parser("local", help="the embedded local stack").add_subparsers(
        dest="local_command", required=True
    )
    up = local.add_parser("up", help="run the stack until interrupted")
    up.add_argument("--port", type=int, default=DEFAULT_PORT, help="AWS endpoint port (0: any)")
    up.add_argument("--site-port", type=int, default=DEFAULT_SITE_PORT, help="site port (0: any)")
    up.add_argument("--state", help="state file (default: $BLOGPUB_STATE or .blogpub/local.json)")
    stack_arguments(up)
    up.set_defaults(run=cmd_local_up)

    wait = local.add_parser("wait", help="exit 0 once the running stack is idle, 1 on timeout")
    wait.add_argument("--timeout", type=float, default=60.0)
    wait.add_argument("--state")
    wait.set_defaults(run=cmd_local_wait)

    run = local.add_parser("run", help="build POSTS_DIR into SITE_DIR on a throwaway stack")
    run.add_argument("posts_dir", type=Path, metavar="POSTS_DIR")
    run.add_argument("--out", type=Path, required=True, metavar="SITE_DIR")
    run.add_argument("--report", type=Path, help="write a JSON report here")
    run.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for idle")
    stack_arguments(run)
    run.set_defaults(run=cmd_local_run)

    invoke = commands.add_parser("invoke", help="invoke a template function in-process")
    invoke.add_argument("function", metavar="FunctionLogicalId")
    invoke.add_argument("-e", "--event", required=True, help="event JSON file, or - for stdin")
    invoke.add_argument("--env-vars", type=Path, help="SAM env.json")
    invoke.add_argument("--state")
    invoke.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    stack_arguments(invoke)
    invoke.set_defaults(run=cmd_invoke)

    publish = commands.add_parser(
        "publish",
        help="sync files or folders to the source bucket",
        description="Upload what differs from the bucket. A folder holding the posts prefix\n"
        "(source/ with _posts/) mirrors the bucket root; any other folder goes below --prefix.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    publish.add_argument("paths", type=Path, nargs="+", metavar="PATH")
    publish.add_argument("--bucket", required=True)
    publish.add_argument(
        "--prefix",
        default=DEFAULT_POSTS_PREFIX,
        help="the stack's PostsPrefix (default %(default)s)",
    )
    publish.add_argument("--endpoint-url", default=None, help="default: $AWS_ENDPOINT_URL")
    add_publish_arguments(publish)
    publish.set_defaults(run=cmd_publish)
    add_admin_commands(commands)
    add_replay_command(commands)
    add_status_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
