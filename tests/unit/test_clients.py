"""The functions' AWS clients, configured as service.py says."""

from __future__ import annotations

from typing import Any

import pytest
from blogpub.config import Deployment
from blogpub.service import Runtime
from botocore.awsrequest import AWSResponse


class _Raw:
    def stream(self, **_: Any) -> Any:
        yield b"{}"


def test_the_functions_clients_leave_parameter_validation_to_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the functions' DynamoDB client, answered before anything is sent
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    runtime = Runtime(Deployment(source_bucket="source", site_bucket="site", table_name="t"))
    client = runtime.dynamodb
    sent: list[Any] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _Raw())  # type: ignore[arg-type]

    client.meta.events.register("before-send.dynamodb.GetItem", answer)
    # When a request lacks a parameter botocore's own validation would refuse (Key)
    client.get_item(TableName="t")  # type: ignore[call-arg]
    # Then it is sent as built, for the service to judge, and retries stay as configured
    assert len(sent) == 1 and b'"TableName": "t"' in sent[0].body
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 9}
