"""Faults injected at the HTTP boundary: botocore's before-send hook answers for AWS.

A handler registered on ``before-send.<service>.<Operation>`` that returns a response
short-cuts the request; botocore then parses it and applies its retry policy exactly as
for a real answer. Nothing of blogpub is replaced.

botocore calls every before-send handler and uses the first answer, so moto's in-process
stubber (registered after ours) would still carry out a faulted request. A faulted
request is therefore moved off AWS's domain until the last handler puts it back: like a
throttled request, it never reaches the service.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders


@dataclass(frozen=True)
class RawBody:
    body: bytes

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


@dataclass(frozen=True)
class Fault:
    """One error answer as the service's protocol spells it."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, url: str) -> AWSResponse:
        headers = HTTPHeaders()
        for name, value in self.headers.items():
            headers[name] = value
        return AWSResponse(url, self.status, headers, RawBody(self.body))


def xml_fault(status: int, code: str, *, wrapped: bool = False) -> Fault:
    """S3 answers <Error>; CloudFront wraps it in <ErrorResponse>."""
    error = f"<Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>"
    body = f"<ErrorResponse>{error}</ErrorResponse>" if wrapped else error
    return Fault(status, body.encode(), {"Content-Type": "application/xml"})


def json_fault(status: int, code: str) -> Fault:
    """DynamoDB's JSON 1.0 error shape."""
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}
    return Fault(status, json.dumps(body).encode(), {"Content-Type": "application/x-amz-json-1.0"})


S3_SLOW_DOWN = xml_fault(503, "SlowDown")
S3_INTERNAL_ERROR = xml_fault(500, "InternalError")
S3_ACCESS_DENIED = xml_fault(403, "AccessDenied")
DYNAMODB_THROUGHPUT = json_fault(400, "ProvisionedThroughputExceededException")
DYNAMODB_THROTTLING = json_fault(400, "ThrottlingException")
DYNAMODB_INTERNAL = json_fault(500, "InternalServerError")
CLOUDFRONT_TOO_MANY = xml_fault(400, "TooManyInvalidationsInProgress", wrapped=True)
CLOUDFRONT_THROTTLING = xml_fault(400, "Throttling", wrapped=True)
CLOUDFRONT_UNAVAILABLE = xml_fault(503, "ServiceUnavailable", wrapped=True)

DIVERTED_URL = "https://fault-injected.invalid/"

RequestFilter = Callable[[AWSPreparedRequest], bool]


@dataclass
class FaultPlan:
    """Answers the first faults of an operation with errors, then lets requests through.

    ``attempts`` counts every request of the operation that matched ``only``; the times
    of the attempts are kept to show the retries were spaced out.
    """

    operation: str  # "s3.GetObject"
    faults: list[Fault]
    only: RequestFilter = lambda request: True
    attempts: int = 0
    attempt_times: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def event_name(self) -> str:
        service, operation = self.operation.split(".")
        return f"before-send.{service}.{operation}"

    _diverted: dict[int, str] = field(default_factory=dict)

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if not self.only(request):
            return None
        with self._lock:
            self.attempts += 1
            self.attempt_times.append(time.monotonic())
            fault = self.faults[self.attempts - 1] if self.attempts <= len(self.faults) else None
            if fault is None:
                return None
            self._diverted[id(request)] = request.url
        answer = fault.response(request.url)
        request.url = DIVERTED_URL
        return answer

    def restore(self, request: AWSPreparedRequest, **_: Any) -> None:
        """The last before-send handler: a diverted request gets its address back for a retry."""
        with self._lock:
            url = self._diverted.pop(id(request), None)
        if url is not None:
            request.url = url

    def __hash__(self) -> int:
        return id(self)


@dataclass
class FaultInjector:
    """Registers fault plans on clients and removes them again."""

    clients: dict[str, Any]  # service name -> client
    plans: list[FaultPlan] = field(default_factory=list)

    def inject(self, plan: FaultPlan) -> FaultPlan:
        client = self.clients[plan.operation.split(".")[0]]
        client.meta.events.register_first(plan.event_name, plan)
        # moto's stubber listens on "before-send" itself: restore after it, on the same name.
        client.meta.events.register_last("before-send", plan.restore)
        self.plans.append(plan)
        return plan

    def remove_all(self) -> None:
        for plan in self.plans:
            client = self.clients[plan.operation.split(".")[0]]
            client.meta.events.unregister(plan.event_name, plan)
            client.meta.events.unregister("before-send", plan.restore)
        self.plans.clear()


def url_contains(*parts: str) -> RequestFilter:
    """Only requests whose (percent-encoded) URL contains every part."""
    return lambda request: all(part in request.url for part in parts)
