"""The functions' AWS clients, configured as service.py says."""

from __future__ import annotations

from typing import Any

import pytest
from blogpub.config import Deployment
from blogpub.service import Runtime
from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def _answered(
    monkeypatch: pytest.MonkeyPatch, service: str, event: str, body: bytes
) -> tuple[Any, list[Any]]:
    """The functions' client of ``service`` (a Runtime's), ``event``'s requests answered
    200 with ``body`` before anything is sent; and the list of the requests it sent."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    runtime = Runtime(Deployment(source_bucket="source", site_bucket="site", table_name="t"))
    client = getattr(runtime, service)
    sent: list[Any] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _Raw(body))  # type: ignore[arg-type]

    client.meta.events.register(event, answer)
    return client, sent


def test_the_functions_clients_leave_parameter_validation_to_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the functions' DynamoDB client, answered before anything is sent
    client, sent = _answered(monkeypatch, "dynamodb", "before-send.dynamodb.GetItem", b"{}")
    # When a request lacks a parameter botocore's own validation would refuse (Key)
    client.get_item(TableName="t")
    # Then it is sent as built, for the service to judge, and retries stay as configured
    assert len(sent) == 1 and b'"TableName": "t"' in sent[0].body
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 9}


@pytest.mark.parametrize(("size", "expected"), [(20_000, None), (2 * 1024 * 1024, "100-continue")])
def test_the_functions_s3_client_asks_for_100_continue_only_before_a_large_body(
    monkeypatch: pytest.MonkeyPatch, size: int, expected: str | None
) -> None:
    # Given the functions' S3 client, answered before anything is sent
    client, sent = _answered(monkeypatch, "s3", "before-send.s3.PutObject", b"")
    # When it puts a page of ``size`` bytes
    client.put_object(Bucket="site", Key="index.html", Body=b"x" * size)
    # Then only a body of 2 MB or more waits for S3's "100 Continue" (a round trip before
    # the body is sent, which botocore would ask before every body)
    assert len(sent) == 1 and sent[0].headers.get("Expect") == (
        expected.encode() if expected else None
    )
