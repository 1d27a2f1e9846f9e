"""A Lambda cold start runs with Python's cyclic garbage collector paused.

The handler's import and its first event load boto3, botocore's service models, Jinja2 and
this package: about 90,000 objects that live as long as the execution environment. Meanwhile
the collector walks the growing heap again and again, for almost nothing (about 1,200
unreachable objects at the end of BuildIndexesFunction's first event): 40-50 CPU ms of a
cold start of 300-370 (bench/README.md, section 3b). So the collector is off from the
handler module's first import until its first event ends; then what the cold start made is
frozen (``gc.freeze``: a generation the collector never walks again, as CPython's docs advise
for long-lived start-up state, so warm invocations do not walk it either) and collection
resumes. The little cyclic garbage of the cold start is frozen with it, once per environment.

Only on Lambda (``LAMBDA_TASK_ROOT`` set): tests and the local stack, which run many
handlers in one long-lived process, are left as they are.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

_paused = False


def on_lambda(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process is a Lambda execution environment (Lambda sets the variable)."""
    return bool(environ.get("LAMBDA_TASK_ROOT"))


def pause_collector(environ: Mapping[str, str] = os.environ) -> bool:
    """Turn the cyclic collector off for the cold start, on Lambda only; whether it is off."""
    global _paused  # noqa: PLW0603 - one cold start per process
    if not _paused and on_lambda(environ) and gc.isenabled():
        gc.disable()
        _paused = True
    return _paused


def resume_collector() -> None:
    """Freeze what the cold start made and turn the collector back on (once)."""
    global _paused  # noqa: PLW0603 - one cold start per process
    if _paused:
        gc.freeze()
        gc.enable()
        _paused = False


def ends_cold_start(handler: Handler) -> Handler:
    """The handler, resuming the collector when its first event ends (answered or raised)."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            resume_collector()

    return wrapper  # type: ignore[return-value]


# At import: each handler module imports this module before anything else.
pause_collector()
