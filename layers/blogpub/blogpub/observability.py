"""Logger, Tracer and Metrics: module-level singletons shared by every handler.

The X-Ray SDK behind Powertools' Tracer takes about twice as long to import as boto3 itself
(bench/README.md), so the tracer is made on the first traced call instead of at import, and
never when tracing is off (template.yaml's Tracing parameter, off by default).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])

logger = Logger()
metrics = Metrics(namespace="blogpub")


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
