"""Running a Lambda handler in this process: loading, context, environment, errors.

Handlers run in threads of one process, so ``os.environ`` is shared: ``EnvironmentGate``
lets invocations overlap only when the variables they set agree, and applies a function's
variables for the length of its invocation.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from blogpub_cli.template import FunctionSpec

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


class EnvironmentGate:
    """Serialises invocations whose environment variables conflict; applies them to os.environ."""

    def __init__(self, base: Mapping[str, str] | None = None) -> None:
        self._condition = threading.Condition()
        self._active: dict[str, str] = {}
        self._holders: dict[str, int] = {}  # variable -> invocations relying on it
        if base:
            os.environ.update(base)

    def _compatible(self, variables: Mapping[str, str]) -> bool:
        return all(
            self._active.get(name, value) == value
            for name, value in variables.items()
            if self._holders.get(name)
        )

    @contextmanager
    def applied(self, variables: Mapping[str, str]) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: self._compatible(variables))
            for name, value in variables.items():
                self._active[name] = value
                self._holders[name] = self._holders.get(name, 0) + 1
                os.environ[name] = value
        try:
            yield
        finally:
            with self._condition:
                for name in variables:
                    self._holders[name] -= 1
                self._condition.notify_all()


@dataclass(frozen=True)
class InvocationResult:
    payload: Any  # the handler's return value, or error_payload() when it raised
    error: BaseException | None
    duration_ms: float
    request_id: str

    @property
    def failed(self) -> bool:
        return self.error is not None


class LocalFunction:
    """A template function loaded in this process, invoked the way Lambda invokes it."""

    def __init__(
        self,
        spec: FunctionSpec,
        gate: EnvironmentGate,
        *,
        region: str,
        account_id: str,
        handler: Handler | None = None,
    ) -> None:
        self.spec = spec
        self.gate = gate
        self.region = region
        self.account_id = account_id
        self._handler = handler
        self._load_lock = threading.Lock()

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

    def invoke(self, event: Any) -> InvocationResult:
        """Run the handler on a JSON copy of ``event``; errors become Lambda's error payload."""
        handler = self.handler()
        context = LambdaContext.for_invocation(
            self.spec.function_name,
            self.spec.memory_mb,
            self.spec.timeout_seconds,
            self.region,
            self.account_id,
        )
        payload_in = json.loads(json.dumps(event))
        started = time.monotonic()
        with self.gate.applied(self.spec.environment):
            try:
                payload = handler(payload_in, context)
                error: BaseException | None = None
                payload = json.loads(json.dumps(payload, default=str))
            except Exception as raised:
                error = raised
                payload = error_payload(raised) | {"requestId": context.aws_request_id}
        return InvocationResult(
            payload=payload,
            error=error,
            duration_ms=(time.monotonic() - started) * 1000,
            request_id=context.aws_request_id,
        )
