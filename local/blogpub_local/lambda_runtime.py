"""Running a Lambda handler in this process: loading, context, environment, errors.

Handlers run in threads of one process, so ``os.environ`` is shared: ``EnvironmentGate``
gives each invocation's thread its own function's variables for the length of the call.
"""

from __future__ import annotations

import contextvars
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from blogpub_local.template import FunctionSpec

Handler = Callable[[Any, Any], Any]


class HandlerLoadError(Exception):
    """The handler named by the template cannot be imported."""


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    started_at: float = 0.0

    @classmethod
    def for_invocation(
        cls, function_name: str, memory_mb: int, timeout_seconds: int, region: str, account: str
    ) -> LambdaContext:
        return cls(
            function_name=function_name,
            memory_limit_in_mb=memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{region}:{account}:function:{function_name}",
            aws_request_id=str(uuid.uuid4()),
            timeout_seconds=timeout_seconds,
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex,
            started_at=time.monotonic(),
        )

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started_at
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def load_handler(code_dir: Path, module_name: str, function_name: str, unique_name: str) -> Handler:
    """Import ``code_dir/<module_name>.py`` under ``unique_name`` and return its handler.

    Each function directory has its own ``app.py``; a unique module name keeps them apart.
    """
    path = code_dir / (module_name.replace(".", "/") + ".py")
    if not path.is_file():
        raise HandlerLoadError(f"handler file {path} does not exist (CodeUri + Handler)")
    spec = importlib.util.spec_from_file_location(unique_name, path)
    if spec is None or spec.loader is None:
        raise HandlerLoadError(f"cannot import {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[unique_name] = module
    spec.loader.exec_module(module)
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise HandlerLoadError(f"{path} has no function {function_name!r}")
    return handler  # type: ignore[no-any-return]


def error_payload(error: BaseException) -> dict[str, Any]:
    """The JSON Lambda returns for an unhandled exception."""
    frames = traceback.extract_tb(error.__traceback__)
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(frames),
    }


class ThreadOverlayEnviron(os._Environ):  # type: ignore[type-arg]
    """``os.environ`` with per-thread overlays: each invocation sees its own function's variables.

    Handlers of different functions run concurrently in one process and their Environment
    differs (POWERTOOLS_SERVICE_NAME, RENDER_FUNCTION_NAME); a lock instead would deadlock a
    function that synchronously invokes another one.
    """

    def __init__(self, base: Any) -> None:
        super().__init__(
            base._data, base.encodekey, base.decodekey, base.encodevalue, base.decodevalue
        )
        self._local = threading.local()

    def overlay(self) -> dict[str, str]:
        values: dict[str, str] = getattr(self._local, "values", {})
        return values

    def set_overlay(self, values: dict[str, str]) -> None:
        self._local.values = values

    def __getitem__(self, key: str) -> str:
        overlay = self.overlay()
        if key in overlay:
            return overlay[key]
        value: str = super().__getitem__(key)
        return value

    def __iter__(self) -> Iterator[str]:
        overlay = self.overlay()
        yield from overlay
        yield from (key for key in super().__iter__() if key not in overlay)

    def __len__(self) -> int:
        return len(set(self.overlay()) | set(super().__iter__()))


def shared_variables(environments: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Variables every function that sets them agrees on: safe in the process environment."""
    shared: dict[str, str] = {}
    conflicting: set[str] = set()
    for environment in environments:
        for name, value in environment.items():
            if shared.get(name, value) != value:
                conflicting.add(name)
            shared[name] = value
    return {name: value for name, value in shared.items() if name not in conflicting}


class EnvironmentGate:
    """Applies a function's variables to os.environ for the thread running its invocation.

    ``base`` goes into the process environment (credentials, endpoint, and the variables
    all functions share, so threads a handler starts see them too).
    """

    def __init__(self, base: Mapping[str, str] | None = None) -> None:
        if not isinstance(os.environ, ThreadOverlayEnviron):
            os.environ = ThreadOverlayEnviron(os.environ)  # noqa: B003 - same data, overlays added
        self.environ: ThreadOverlayEnviron = os.environ
        if base:
            self.environ.update(base)

    @contextmanager
    def applied(self, variables: Mapping[str, str]) -> Iterator[None]:
        previous = self.environ.overlay()
        self.environ.set_overlay(previous | dict(variables))
        try:
            yield
        finally:
            self.environ.set_overlay(previous)


SERVICE_NAME_VARIABLE = "POWERTOOLS_SERVICE_NAME"
UNDEFINED_SERVICE = "service_undefined"  # Powertools' name when the variable is not set


@dataclass(frozen=True)
class InvocationResult:
    payload: Any  # the handler's return value, or error_payload() when it raised
    error: BaseException | None
    duration_ms: float
    request_id: str
    event_bytes: int = 0  # the length of the event's JSON, as Lambda's payload limit counts it

    @property
    def failed(self) -> bool:
        return self.error is not None


DEFAULT_CONCURRENCY = 4  # per function, where the template reserves none (2 cores here)


def concurrency_limit(spec: FunctionSpec, default: int = DEFAULT_CONCURRENCY) -> int:
    """How many invocations of a function run at once: its reserved concurrency, if any."""
    limit = spec.reserved_concurrency if spec.reserved_concurrency is not None else default
    return max(1, limit)


class LocalFunction:
    """A template function loaded in this process, invoked the way Lambda invokes it.

    At most ``concurrency`` invocations run at once; one more waits for a free slot (Lambda
    throttles it and its event source or async queue tries again).
    """

    def __init__(
        self,
        spec: FunctionSpec,
        gate: EnvironmentGate,
        *,
        region: str,
        account_id: str,
        handler: Handler | None = None,
        concurrency: int | None = None,
    ) -> None:
        self.spec = spec
        self.gate = gate
        self.region = region
        self.account_id = account_id
        self.concurrency = concurrency or concurrency_limit(spec)
        self.running = 0
        self.peak_running = 0  # the most invocations that ran at once (tests, bench)
        self._handler = handler
        self._load_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._count_lock = threading.Lock()

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.spec.function_name}"

    def handler(self) -> Handler:
        with self._load_lock:
            if self._handler is None:
                unique_name = f"blogpub_local_{self.spec.logical_id}_{self.spec.handler_module}"
                with self.gate.applied(self.spec.environment):
                    self._handler = load_handler(
                        self.spec.code_dir,
                        self.spec.handler_module,
                        self.spec.handler_function,
                        unique_name.replace(".", "_"),
                    )
            return self._handler

    def _run(
        self, handler: Handler, event: Any, context: LambdaContext
    ) -> tuple[Any, BaseException | None]:
        """The handler's JSON answer, or Lambda's error payload; in its function's environment,
        with log keys and metrics of its own under its function's service name."""
        from aws_lambda_powertools.logging.formatter import THREAD_LOCAL_KEYS
        from blogpub.observability import invocation_scope

        service = self.spec.environment.get(SERVICE_NAME_VARIABLE) or UNDEFINED_SERVICE
        # Any Powertools Logger a handler made at import logs under this function's name too.
        THREAD_LOCAL_KEYS.set({**THREAD_LOCAL_KEYS.get(), "service": service})
        with self.gate.applied(self.spec.environment), invocation_scope(service):
            try:
                answer = handler(event, context)
                return json.loads(json.dumps(answer, default=str)), None
            except Exception as raised:
                return error_payload(raised) | {"requestId": context.aws_request_id}, raised

    def invoke(self, event: Any) -> InvocationResult:
        """Run the handler on a JSON copy of ``event``; errors become Lambda's error payload."""
        return self.invoke_json(json.dumps(event))

    def invoke_json(self, event_json: str) -> InvocationResult:
        """Run the handler on the event this JSON text holds (an event source that already has
        its records' JSON, as the stream poller does, sends it without a second dump)."""
        handler = self.handler()
        context = LambdaContext.for_invocation(
            self.spec.function_name,
            self.spec.memory_mb,
            self.spec.timeout_seconds,
            self.region,
            self.account_id,
        )
        payload_in = json.loads(event_json)
        with self._slots:
            with self._count_lock:
                self.running += 1
                self.peak_running = max(self.peak_running, self.running)
            started = time.monotonic()
            try:
                # A context of its own: context variables set by one invocation never reach
                # another.
                payload, error = contextvars.Context().run(self._run, handler, payload_in, context)
            finally:
                with self._count_lock:
                    self.running -= 1
        return InvocationResult(
            payload=payload,
            error=error,
            duration_ms=(time.monotonic() - started) * 1000,
            request_id=context.aws_request_id,
            event_bytes=len(event_json),
        )
