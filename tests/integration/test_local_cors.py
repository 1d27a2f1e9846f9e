"""The local endpoint is for SDKs and the CLI: a web page on another origin gets no CORS grant
(issue 16: moto alone answers any page's preflight, PUT and DELETE included)."""

from __future__ import annotations

from typing import Any

import pytest
from blogpub_local.stack import closed_to_other_origins
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

HOST = "127.0.0.1:4566"
S3_HEADERS = {
    "Host": HOST,
    "Authorization": "AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/s3/aws4_request",
}


@pytest.fixture
def endpoints(aws_env: None) -> tuple[Client, Client]:
    """(moto as released, moto behind the guard), both the real in-process server app."""
    moto_app: Any = DomainDispatcherApplication(create_backend_app)
    return Client(moto_app), Client(closed_to_other_origins(moto_app))


def cors_headers(response: Any) -> list[str]:
    return [
        name for name, _ in response.headers.items() if name.lower().startswith("access-control-")
    ]


def preflight(client: Client, origin: str) -> Any:
    return client.options(
        "/bucket/key",
        headers={
            **S3_HEADERS,
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
        },
    )


def test_moto_alone_grants_any_origin(endpoints: tuple[Client, Client]) -> None:
    bare, _ = endpoints
    granted = preflight(bare, "https://evil.example")
    assert cors_headers(granted)


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:9999"])
def test_another_origin_is_refused_without_cors_headers(
    endpoints: tuple[Client, Client], origin: str
) -> None:
    _, guarded = endpoints
    for response in (
        preflight(guarded, origin),
        guarded.put("/bucket/key", data=b"x", headers={**S3_HEADERS, "Origin": origin}),
        guarded.delete("/bucket/key", headers={**S3_HEADERS, "Origin": origin}),
    ):
        assert response.status_code == 403
        assert cors_headers(response) == []


def test_sdk_requests_pass_and_carry_no_cors_headers(endpoints: tuple[Client, Client]) -> None:
    _, guarded = endpoints
    listed = guarded.get("/", headers=S3_HEADERS)
    assert listed.status_code == 200
    assert b"ListAllMyBucketsResult" in listed.data
    assert cors_headers(listed) == []
    own = guarded.get("/", headers={**S3_HEADERS, "Origin": f"http://{HOST}"})
    assert own.status_code == 200
