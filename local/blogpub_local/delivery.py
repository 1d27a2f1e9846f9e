"""Lambda's asynchronous invocation: a thread pool, retries, and the OnFailure destination."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from blogpub.dates import event_time
from blogpub_local.lambda_runtime import InvocationResult, LocalFunction

# AWS waits one then two minutes between async retries; locally the wait only has to
# let a transient condition pass, not a throttled service recover.
LOCAL_RETRY_DELAYS_SECONDS = (0.2, 0.5)

FailureSender = Callable[[str, dict[str, Any]], None]  # (destination arn, record)


def utc_timestamp() -> str:
    return event_time(datetime.now(UTC))


def async_failure_record(
    function: LocalFunction, event: Any, result: InvocationResult, invoke_count: int
) -> dict[str, Any]:
    """The record Lambda sends to an async OnFailure destination after the retries."""
    return {
        "version": "1.0",
        "timestamp": utc_timestamp(),
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{function.arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": result.payload,
    }


class InFlight:
    """Counts work that has started and not finished, for the idle check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def __enter__(self) -> InFlight:
        with self._lock:
            self._count += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._count -= 1

    @property
    def count(self) -> int:
        with self._lock:
            return self._count


class AsyncInvoker:
    """Invokes functions asynchronously (Event invocation type), as S3 notifications do."""

    def __init__(self, send_failure: FailureSender, *, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda-async")
        self._send_failure = send_failure
        self.in_flight = InFlight()
        self.results: list[tuple[str, InvocationResult]] = []  # (logical id, last attempt)
        self._results_lock = threading.Lock()

    def submit(self, function: LocalFunction, event: dict[str, Any]) -> Future[InvocationResult]:
        self.in_flight.__enter__()  # counted from submission, not from when a worker is free
        return self._pool.submit(self._run, function, event)

    def _run(self, function: LocalFunction, event: dict[str, Any]) -> InvocationResult:
        try:
            attempts = 1 + max(0, function.spec.async_retry_attempts)
            result = function.invoke(event)
            for attempt in range(1, attempts):
                if not result.failed:
                    break
                time.sleep(LOCAL_RETRY_DELAYS_SECONDS[min(attempt - 1, 1)])
                result = function.invoke(event)
            with self._results_lock:
                self.results.append((function.spec.logical_id, result))
            if result.failed and function.spec.async_on_failure_arn:
                record = async_failure_record(function, event, result, attempts)
                self._send_failure(function.spec.async_on_failure_arn, record)
            return result
        finally:
            self.in_flight.__exit__()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
