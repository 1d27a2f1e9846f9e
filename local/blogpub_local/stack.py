"""The embedded local stack: moto as S3/DynamoDB/CloudFront/SQS, built from template.yaml.

``LocalStack.start()`` creates the template's resources, loads its functions, wires their
event sources (S3 writes -> async invokes, the table stream, SQS queues), serves the site
bucket as CloudFront would, and answers "are you idle?" on ``/_blogpub/idle``.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
from blogpub_cli.state import IDLE_PATH, StackInfo, write_state
from blogpub_local import cfn_yaml, http_headers
from blogpub_local.delivery import AsyncInvoker
from blogpub_local.lambda_runtime import (
    DEFAULT_CONCURRENCY,
    EnvironmentGate,
    Handler,
    LocalFunction,
    concurrency_limit,
    shared_variables,
)
from blogpub_local.moto_process import ChildSettings, MotoProcess, MotoProcessError
from blogpub_local.poller import Activity
from blogpub_local.resources import Clients, CreatedResources, create_resources
from blogpub_local.s3_events import ObservedWrite, s3_event, s3_event_record
from blogpub_local.site_server import (
    CACHE_POLICY_ID,
    DISTRIBUTION_ID,
    HEADERS_POLICY_ID,
    EdgeBehaviour,
    SiteServer,
)
from blogpub_local.sqs_poller import SqsPoller
from blogpub_local.stream_poller import (
    MAX_LOCAL_BATCHING_WINDOW_SECONDS,
    StreamPoller,
    WireStreamReader,
)
from blogpub_local.template import (
    ACCOUNT_ID,
    STACK_NAME,
    IntrinsicResolver,
    S3EventSource,
    SqsEventSource,
    StreamEventSource,
    function_spec,
    resolver_for,
    serverless_functions,
)
from botocore.config import Config
from botocore.credentials import Credentials
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import make_server

DEFAULT_REGION = "us-east-1"
LAMBDA_FUNCTIONS_PATH = "/2015-03-31/functions/"
LAMBDA_INVOKE_PATH = re.compile(LAMBDA_FUNCTIONS_PATH + r"([^/]+)/invocations")
# The variables every local function sees, beyond the template's own.
LAMBDA_BASE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
}


class QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without a log line per request: stderr is for function logs."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Not logged."""


class StackStartError(Exception):
    """The local stack could not start; the message says what to fix."""


def lambda_environment(endpoint: str, region: str) -> dict[str, str]:
    return LAMBDA_BASE_ENVIRONMENT | {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


LOCAL_ACCESS_KEY = "testing"  # the stack's own clients' key id and secret (moto takes any)


def aws_clients(endpoint: str, region: str) -> dict[str, Any]:
    session = boto3.session.Session(
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_ACCESS_KEY,
        region_name=region,
    )
    config = Config(retries={"max_attempts": 2, "mode": "standard"})
    return {
        name: session.client(name, endpoint_url=endpoint, config=config)
        for name in ("s3", "dynamodb", "dynamodbstreams", "sqs", "cloudfront")
    }


def find_env_value(functions: Mapping[str, LocalFunction], name: str) -> str:
    """A variable every function that sets it agrees on (SOURCE_BUCKET, TABLE_NAME, ...)."""
    for function in functions.values():
        value = function.spec.environment.get(name)
        if value:
            return value
    return ""


@dataclass
class S3Subscription:
    function: LocalFunction
    source: S3EventSource


@dataclass
class StackOptions:
    template_path: Path
    port: int = 0
    site_port: int = 0
    host: str = "127.0.0.1"
    region: str = DEFAULT_REGION
    stack_name: str = STACK_NAME
    state_file: Path | None = None
    handler_overrides: Mapping[str, Handler] = field(default_factory=dict)
    # Template parameter values over their defaults (IndexPageTtlSeconds: "1" in tests).
    parameters: Mapping[str, str] = field(default_factory=dict)
    # Invocations of one function at once, where the template reserves no concurrency.
    concurrency: int = DEFAULT_CONCURRENCY
    # The longest a stream mapping gathers records before a batch (its
    # MaximumBatchingWindowInSeconds, at most this): short, so that an edit reaches the
    # indexes at once and a test need not wait the deployed 2 s on every batch. None: the
    # template's own window, as deployed (the bench's bulk import).
    stream_window_cap_seconds: float | None = MAX_LOCAL_BATCHING_WINDOW_SECONDS


class LocalStack:
    """The whole blogpub stack in this process. Use as a context manager or start()/stop()."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.template = cfn_yaml.load_template(options.template_path)
        self.region = options.region
        self.resolver: IntrinsicResolver = resolver_for(
            self.template, options.region, options.stack_name, options.parameters
        )
        self.functions: dict[str, LocalFunction] = {}
        self.created = CreatedResources()
        self.s3_subscriptions: list[S3Subscription] = []
        self.stream_pollers: list[StreamPoller] = []
        self.sqs_pollers: list[SqsPoller] = []
        self.writes: queue.Queue[ObservedWrite] = queue.Queue()
        self.delivered_records: list[dict[str, Any]] = []  # every S3 record produced, in order
        self.invoker = AsyncInvoker(self._send_failure)
        # Table writes wake the idle stream pollers; SQS sends, the queue pollers.
        self.table_activity = Activity()
        self.queue_activity = Activity()
        self._moto = MotoProcess(
            on_write=self.writes.put,
            on_table_write=self.table_activity.notify,
            on_queue_write=self.queue_activity.notify,
        )
        self._control_server: Any = None  # the idle report and Lambda's Invoke, for the child
        self._site: SiteServer | None = None
        self._dispatcher = threading.Thread(target=self._dispatch_writes, daemon=True)
        self._stopping = threading.Event()
        self.clients: dict[str, Any] = {}
        self.info: StackInfo | None = None

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return f"http://{self.options.host}:{self._moto.port}"

    @property
    def moto_pid(self) -> int | None:
        """The process moto answers from, while the stack runs."""
        return self._moto.pid

    def start(self) -> StackInfo:
        http_headers.install()  # every SDK answer the functions read parses its headers here
        self._start_moto()
        endpoint = self.endpoint
        os.environ.pop("AWS_PROFILE", None)
        self.clients = aws_clients(endpoint, self.region)
        self.created = create_resources(
            self.template,
            self.resolver,
            Clients(
                s3=self.clients["s3"],
                dynamodb=self.clients["dynamodb"],
                sqs=self.clients["sqs"],
                cloudfront=self.clients["cloudfront"],
            ),
        )
        self._load_functions(lambda_environment(endpoint, self.region))
        self._moto.watch_buckets(frozenset(s.source.bucket for s in self.s3_subscriptions))
        self._dispatcher.start()
        for poller in self._pollers():
            poller.start()
        self.info = self._start_site()
        if self.options.state_file is not None:
            write_state(self.info, self.options.state_file)
        return self.info

    def _pollers(self) -> list[StreamPoller | SqsPoller]:
        return [*self.stream_pollers, *self.sqs_pollers]

    def _start_moto(self) -> None:
        from blogpub_local.moto_support import UnsupportedMotoError, check_moto_version

        try:
            check_moto_version()
        except UnsupportedMotoError as error:
            raise StackStartError(str(error)) from error
        self._control_server = make_server(
            "127.0.0.1", 0, self._control_app(), threaded=True, request_handler=QuietRequestHandler
        )
        threading.Thread(
            target=self._control_server.serve_forever, name="stack-control", daemon=True
        ).start()
        host, port = self._control_server.server_address[:2]
        settings = ChildSettings(
            host=self.options.host,
            port=self.options.port,
            parent_address=("", 0),
            control_url=f"http://{host}:{port}",
            forwarded_prefixes=(IDLE_PATH, LAMBDA_FUNCTIONS_PATH),
        )
        try:
            self._moto.start(settings)
        except MotoProcessError as error:
            raise StackStartError(str(error)) from error

    def _control_app(self) -> Callable[..., Iterator[bytes]]:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
            path = str(environ.get("PATH_INFO", ""))
            if path == IDLE_PATH:
                body = json.dumps(self.idle_report()).encode()
                start_response("200 OK", [("Content-Type", "application/json")])
                return iter([body])
            invocation = LAMBDA_INVOKE_PATH.fullmatch(path)
            if invocation and environ.get("REQUEST_METHOD") == "POST":
                return self._lambda_invoke(unquote(invocation.group(1)), environ, start_response)
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return iter([b"not a local stack path\n"])

        return app

    def function_named(self, name_or_arn: str) -> LocalFunction | None:
        """A function by logical id, name, or (partial) ARN, as Lambda's Invoke accepts."""
        for logical_id, function in self.functions.items():
            if name_or_arn in (logical_id, function.spec.function_name, function.arn):
                return function
            if name_or_arn.startswith(function.arn + ":"):  # qualified ARN
                return function
        return None

    def _lambda_invoke(
        self, name: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        """Lambda's Invoke API for the local functions (RollbackFunction invokes RenderPost)."""
        function = self.function_named(name)
        if function is None:
            message = json.dumps({"Type": "User", "Message": f"Function not found: {name}"})
            start_response(
                "404 Not Found",
                [
                    ("Content-Type", "application/json"),
                    ("x-amzn-ErrorType", "ResourceNotFoundException"),
                ],
            )
            return iter([message.encode()])
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        event = json.loads(raw) if raw else {}
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        if invocation_type == "Event":
            self.invoker.submit(function, event)
            start_response("202 Accepted", [("Content-Length", "0")])
            return iter([b""])
        if invocation_type == "DryRun":
            start_response("204 No Content", [("Content-Length", "0")])
            return iter([b""])
        result = function.invoke(event)
        headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
        if result.failed:
            headers.append(("X-Amz-Function-Error", "Unhandled"))
        start_response("200 OK", headers)
        return iter([json.dumps(result.payload).encode()])

    def _load_functions(self, base_environment: Mapping[str, str]) -> None:
        template_dir = self.options.template_path.resolve().parent
        # Each invocation also carries this stack's endpoint: several stacks may share a process.
        specs = [
            replace(spec, environment=dict(base_environment) | dict(spec.environment))
            for spec in (
                function_spec(logical_id, properties, self.resolver, template_dir, self.template)
                for logical_id, properties in serverless_functions(self.template).items()
            )
        ]
        shared = shared_variables(spec.environment for spec in specs)
        gate = EnvironmentGate(dict(base_environment) | shared)
        for spec in specs:
            logical_id = spec.logical_id
            function = LocalFunction(
                spec,
                gate,
                region=self.region,
                account_id=ACCOUNT_ID,
                handler=self.options.handler_overrides.get(logical_id),
                concurrency=concurrency_limit(spec, self.options.concurrency),
            )
            function.handler()  # import now: errors surface at start, loggers bind stdout now
            self.functions[logical_id] = function
            for source in spec.event_sources:
                self._wire(function, source)
        # Enough async workers for every function to run at its own limit (none started yet).
        workers = sum(function.concurrency for function in self.functions.values())
        self.invoker = AsyncInvoker(self._send_failure, workers=max(1, workers))

    def _wire(
        self, function: LocalFunction, source: S3EventSource | StreamEventSource | SqsEventSource
    ) -> None:
        if isinstance(source, S3EventSource):
            self.s3_subscriptions.append(S3Subscription(function, source))
        elif isinstance(source, StreamEventSource):
            self.stream_pollers.append(
                StreamPoller(
                    function,
                    source,
                    WireStreamReader(
                        self.clients["dynamodbstreams"],
                        self.endpoint,
                        self.region,
                        Credentials(LOCAL_ACCESS_KEY, LOCAL_ACCESS_KEY),
                    ),
                    self._send_failure,
                    region=self.region,
                    max_batching_window_seconds=self.options.stream_window_cap_seconds,
                    activity=self.table_activity,
                )
            )
        else:
            queue_url = self.created.queue_urls_by_arn.get(source.queue_arn)
            if queue_url is None:
                raise StackStartError(
                    f"{function.spec.logical_id}: no queue for {source.queue_arn}"
                )
            self.sqs_pollers.append(
                SqsPoller(
                    function,
                    source,
                    queue_url,
                    self.clients["sqs"],
                    region=self.region,
                    activity=self.queue_activity,
                )
            )

    @property
    def site(self) -> SiteServer:
        """The local distribution (its edge cache and the invalidations it applied)."""
        assert self._site is not None, "the stack is not started"
        return self._site

    def edge_behaviour(self) -> EdgeBehaviour:
        """The cache policy, error caching and response headers template.yaml gives CloudFront."""
        resources = self.template.get("Resources") or {}

        def resolved(logical_id: str, *path: str) -> Any:
            value: Any = (resources.get(logical_id) or {}).get("Properties") or {}
            for step in path:
                value = value.get(step) or {}
            return self.resolver.resolve(value)

        behaviours = (
            ((resources.get(DISTRIBUTION_ID) or {}).get("Properties") or {}).get(
                "DistributionConfig"
            )
            or {}
        ).get("CacheBehaviors") or []
        # Policies are named by Ref; kept as the logical id so each is read like the default.
        cache_behaviours = [
            {
                "PathPattern": behaviour["PathPattern"],
                "ResponseHeadersPolicyId": behaviour.get("ResponseHeadersPolicyId"),
            }
            for behaviour in behaviours
        ]
        policies = {
            str(b["ResponseHeadersPolicyId"]["Ref"]): {
                "ResponseHeadersPolicyConfig": resolved(
                    str(b["ResponseHeadersPolicyId"]["Ref"]), "ResponseHeadersPolicyConfig"
                )
            }
            for b in cache_behaviours
            if isinstance(b.get("ResponseHeadersPolicyId"), dict)
        }
        return EdgeBehaviour.from_resources(
            site_root=str(self.resolver.parameters.get("SiteRoot") or "/"),
            resources={
                **policies,
                CACHE_POLICY_ID: {
                    "CachePolicyConfig": resolved(CACHE_POLICY_ID, "CachePolicyConfig")
                },
                HEADERS_POLICY_ID: {
                    "ResponseHeadersPolicyConfig": resolved(
                        HEADERS_POLICY_ID, "ResponseHeadersPolicyConfig"
                    )
                },
                DISTRIBUTION_ID: {
                    "DistributionConfig": {
                        "CustomErrorResponses": resolved(
                            DISTRIBUTION_ID, "DistributionConfig", "CustomErrorResponses"
                        )
                        or [],
                        "CacheBehaviors": cache_behaviours,
                    }
                },
            },
        )

    def _start_site(self) -> StackInfo:
        source_bucket = find_env_value(self.functions, "SOURCE_BUCKET")
        site_bucket = find_env_value(self.functions, "SITE_BUCKET")
        if not site_bucket:
            raise StackStartError("no function has SITE_BUCKET in its Environment")
        self._site = SiteServer(
            self.clients["s3"],
            site_bucket,
            host=self.options.host,
            port=self.options.site_port,
            behaviour=self.edge_behaviour(),
            cloudfront=self.clients["cloudfront"],
            distribution_id=find_env_value(self.functions, "DISTRIBUTION_ID"),
        )
        self._site.start()
        attributes = {
            f"{lid}.{attr}": value for (lid, attr), value in self.resolver.attributes.items()
        }
        return StackInfo(
            endpoint=self.endpoint,
            site_url=self._site.url,
            source_bucket=source_bucket,
            site_bucket=site_bucket,
            table=find_env_value(self.functions, "TABLE_NAME"),
            distribution_id=find_env_value(self.functions, "DISTRIBUTION_ID"),
            region=self.region,
            control_url=self.endpoint,
            stack_name=self.options.stack_name,
            posts_prefix=find_env_value(self.functions, "POSTS_PREFIX") or "_posts/",
            state_file=str(self.options.state_file or ""),
            pid=os.getpid(),
            functions={lid: f.spec.function_name for lid, f in self.functions.items()},
            queues=dict(self.created.queue_urls),
            refs={lid: str(value) for lid, value in self.resolver.refs.items()},
            attributes=attributes,
        )

    def _send_failure(self, destination_arn: str, record: dict[str, Any]) -> None:
        queue_url = self.created.queue_urls_by_arn.get(destination_arn)
        if queue_url is None:
            return  # SNS/Lambda/EventBridge destinations are not run locally
        self.clients["sqs"].send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))

    def _dispatch_writes(self) -> None:
        while not self._stopping.is_set():
            try:
                write = self.writes.get(timeout=0.5)  # a put wakes it at once
            except queue.Empty:
                continue
            try:
                self._deliver_write(write)
            finally:
                self.writes.task_done()

    def _with_object_facts(self, write: ObservedWrite) -> ObservedWrite:
        """Size and ETag of a created version, as the notification carries them."""
        if not write.is_creation or write.size is not None:  # the moto process read them
            return write
        arguments = {"Bucket": write.bucket, "Key": write.key}
        if write.version_id:
            arguments["VersionId"] = write.version_id
        try:
            head = self.clients["s3"].head_object(**arguments)
        except self.clients["s3"].exceptions.ClientError:
            return replace(write, size=0)  # the version was removed before delivery
        return replace(write, size=int(head["ContentLength"]), etag=head["ETag"].strip('"'))

    def _deliver_write(self, write: ObservedWrite) -> None:
        matching = [
            s
            for s in self.s3_subscriptions
            if s.source.bucket == write.bucket and s.source.accepts(write.event_name, write.key)
        ]
        if not matching:
            return
        record = s3_event_record(self._with_object_facts(write), region=self.region)
        self.delivered_records.append(record)
        for subscription in matching:
            self.invoker.submit(subscription.function, s3_event([record]))

    def idle_report(self) -> dict[str, Any]:
        """Whether anything is left to do; pollers are asked with a fresh poll."""
        busy = {
            "s3_writes_in_flight": self._moto.writes_in_flight(),
            "s3_events_undelivered": self.writes.unfinished_tasks,
            "async_invocations": self.invoker.in_flight.count,
            "stream_pending": sum(p.has_pending() for p in self.stream_pollers),
            "sqs_pending": sum(p.has_pending() for p in self.sqs_pollers),
        }
        # A stream batch may have started an upload or an async invoke meanwhile.
        busy["s3_events_undelivered"] += self.writes.unfinished_tasks
        busy["async_invocations"] += self.invoker.in_flight.count
        return {"idle": not any(busy.values()), **busy}

    def is_idle(self) -> bool:
        # Work this process already counts answers without asking moto or the pollers (whose
        # fresh polls were a fourteenth of the functions' process while a bulk import ran).
        if self.writes.unfinished_tasks or self.invoker.in_flight.count:
            return False
        return bool(self.idle_report()["idle"])

    def wait_until_idle(self, timeout: float = 60.0, interval: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        consecutive = 0
        while time.monotonic() < deadline:
            consecutive = consecutive + 1 if self.is_idle() else 0
            if consecutive >= 2:
                return True
            time.sleep(interval)
        return False

    def stop(self) -> None:
        self._stopping.set()
        for poller in self._pollers():
            poller.stop()
        self.invoker.shutdown()
        if self._site is not None:
            self._site.stop()
        self._moto.stop()
        if self._control_server is not None:
            self._control_server.shutdown()
            self._control_server.server_close()
        if self.options.state_file is not None:
            self.options.state_file.unlink(missing_ok=True)


def closed_to_other_origins(app: Callable[..., Iterator[bytes]]) -> Callable[..., Iterator[bytes]]:
    """The endpoint for SDKs and the CLI, never for web pages: moto answers any page's CORS
    preflight (PUT, DELETE included), so a request naming another origin is refused and no
    Access-Control-* header leaves. SDKs send no Origin; the endpoint's own origin passes."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        if origin is not None and origin != own:
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
            return iter([b"the local AWS endpoint refuses requests from web pages\n"])

        def without_cors(status: str, headers: list[tuple[str, str]], *info: Any) -> Any:
            kept = [(n, v) for n, v in headers if not n.lower().startswith("access-control-")]
            return start_response(status, kept, *info)

        return app(environ, without_cors)

    return guarded
