"""Logger, Tracer and Metrics: module-level singletons shared by every handler.

On Lambda a process runs one function, one invocation at a time, so the singletons hold one
invocation's keys and metrics. The local stack runs every function in one process, several at
once: ``invocation_scope`` gives each of its invocations its own keys, metric set and service
name (a context variable), and outside a scope (always, on Lambda) nothing changes.

The X-Ray SDK behind Powertools' Tracer takes about twice as long to import as boto3 itself
(bench/README.md), so the tracer is made on the first traced call instead of at import, and
never when tracing is off (template.yaml's Tracing parameter, off by default).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass
class InvocationScope:
    """One invocation's log keys and metric set (the local stack's concurrent invocations)."""

    log_keys: dict[str, Any]
    metrics: AmazonCloudWatchEMFProvider


_scope: ContextVar[InvocationScope | None] = ContextVar("blogpub_invocation", default=None)


class ScopedFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter whose appended keys are the running invocation scope's."""

    @property
    def log_format(self) -> dict[str, Any]:
        scope = _scope.get()
        return scope.log_keys if scope is not None else self._process_keys

    @log_format.setter
    def log_format(self, keys: dict[str, Any]) -> None:
        scope = _scope.get()
        if scope is not None:
            scope.log_keys = keys
        else:
            self._process_keys = keys


class ScopedMetrics(Metrics):
    """Powertools' Metrics whose metric set is the running invocation scope's."""

    @property
    def provider(self) -> AmazonCloudWatchEMFProvider:
        scope = _scope.get()
        return scope.metrics if scope is not None else self._process_provider

    @provider.setter
    def provider(self, provider: AmazonCloudWatchEMFProvider) -> None:
        self._process_provider = provider

    def log_metrics(  # type: ignore[override]
        self, lambda_handler: Callable[..., Any] | None = None, **options: Any
    ) -> Callable[..., Any]:
        """Flushes the metric set of the scope the handler runs in, not the one it was
        decorated in (import time)."""
        if lambda_handler is None:
            return functools.partial(self.log_metrics, **options)
        handler = lambda_handler

        @functools.wraps(handler)
        def decorate(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            flushing = self.provider.log_metrics(lambda_handler=handler, **options)
            return flushing(event, context, *args, **kwargs)

        return decorate


logger = Logger(logger_formatter=ScopedFormatter())
metrics = ScopedMetrics(namespace="blogpub")
_PROCESS_LOG_KEYS = dict(logger.get_current_keys())  # before any invocation


@contextmanager
def invocation_scope(service: str) -> Iterator[InvocationScope]:
    """Log keys and metrics of their own for one invocation, under ``service`` (local stack)."""
    scope = InvocationScope(
        log_keys=_PROCESS_LOG_KEYS | {"service": service},
        metrics=AmazonCloudWatchEMFProvider(
            namespace=metrics.namespace,
            service=service,
            metric_set={},
            dimension_set={},
            metadata_set={},
            default_dimensions={},
        ),
    )
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Powertools' own rule: traced in Lambda unless POWERTOOLS_TRACE_DISABLED says otherwise;
    never under SAM local or Chalice, nor outside Lambda (no LAMBDA_TASK_ROOT)."""
    if resolve_truthy_env_var_choice(env=environ.get(constants.TRACER_DISABLED_ENV, "false")):
        return False
    if environ.get(constants.SAM_LOCAL_ENV) or environ.get(constants.CHALICE_LOCAL_ENV):
        return False
    return bool(environ.get(constants.LAMBDA_TASK_ROOT_ENV))


class LazyTracer:
    """Powertools' Tracer, created when a traced handler first runs with tracing on.

    A disabled Tracer still imports the X-Ray SDK, so with tracing off none is made at all.
    """

    def __init__(self) -> None:
        self._tracer: Tracer | None = None

    @property
    def tracer(self) -> Tracer:
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer()
        return self._tracer

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        traced: Callable[..., Any] | None = None

        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> Any:
            nonlocal traced
            if traced is None:
                traced = (
                    self.tracer.capture_lambda_handler(handler) if tracing_enabled() else handler
                )
            return traced(event, context)

        return wrapper  # type: ignore[return-value]


tracer = LazyTracer()
