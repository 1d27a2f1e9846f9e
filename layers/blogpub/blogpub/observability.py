"""Logger, Tracer and Metrics: module-level singletons shared by every handler.

The X-Ray SDK behind Powertools' Tracer takes about twice as long to import as boto3 itself
(bench/README.md), so the tracer is made on the first traced call instead of at import.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])

logger = Logger()
metrics = Metrics(namespace="blogpub")


class LazyTracer:
    """Powertools' Tracer, created when a traced handler first runs."""

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
                traced = self.tracer.capture_lambda_handler(handler)
            return traced(event, context)

        return wrapper  # type: ignore[return-value]


tracer = LazyTracer()
