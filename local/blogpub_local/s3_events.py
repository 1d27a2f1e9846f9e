"""S3 event notifications in AWS's exact shape, produced from the writes S3 (moto) accepts.

moto's own notifications lack ``versionId``/``sequencer`` and skip delete markers, and a
``ListObjectVersions`` poll cannot tell a Copy from a Put nor order a version against a
delete marker written in the same second. So the local stack watches the write requests
themselves: ``S3WriteObserver`` wraps moto's WSGI app and reports every successful object
write or delete on the watched buckets, in the order moto answered them, as S3 does.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote_plus, unquote, urlsplit
from xml.etree import ElementTree

from blogpub.dates import event_time

S3_XML_NAMESPACE = "{http://s3.amazonaws.com/doc/2006-03-01/}"
# Query parameters botocore adds that do not make a request a sub-resource call.
PLAIN_OBJECT_QUERY = frozenset({"x-id", "versionId"})


def encode_event_key(key: str) -> str:
    """The key as S3 puts it in notifications: form-URL-encoded UTF-8, "/" kept."""
    return quote_plus(key, safe="/")


class SequencerClock:
    """Hex sequencers that increase in the order events are produced, as S3's do per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1000)
            return f"{self._last:018X}"


@dataclass(frozen=True)
class ObservedWrite:
    """One object write or delete that S3 accepted, in the order it was accepted."""

    bucket: str
    key: str
    event_name: str  # "ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated", ...
    version_id: str | None
    sequencer: str
    event_time: datetime
    source_ip: str
    request_id: str
    etag: str | None = None  # without quotes
    size: int | None = None

    @property
    def is_creation(self) -> bool:
        return self.event_name.startswith("ObjectCreated:")


def s3_event_record(
    write: ObservedWrite, *, region: str, configuration_id: str = "blogpub-local"
) -> dict[str, Any]:
    """One ``Records[]`` entry exactly as S3 sends it (event version 2.1)."""
    s3_object: dict[str, Any] = {"key": encode_event_key(write.key)}
    if write.is_creation:
        s3_object["size"] = write.size or 0
        s3_object["eTag"] = write.etag or ""
    if write.version_id is not None:
        s3_object["versionId"] = write.version_id
    s3_object["sequencer"] = write.sequencer
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": event_time(write.event_time),
        "eventName": write.event_name,
        "userIdentity": {"principalId": "AWS:AIDALOCALBLOGPUB"},
        "requestParameters": {"sourceIPAddress": write.source_ip},
        "responseElements": {
            "x-amz-request-id": write.request_id,
            "x-amz-id-2": f"{write.request_id}/local",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": write.bucket,
                "ownerIdentity": {"principalId": "A1LOCALBLOGPUB"},
                "arn": f"arn:aws:s3:::{write.bucket}",
            },
            "object": s3_object,
        },
    }


def s3_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": list(records)}


@dataclass(frozen=True)
class S3Request:
    """The parts of an S3 REST request that decide which event it produces."""

    method: str
    bucket: str
    key: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names

    @property
    def is_plain_object_call(self) -> bool:
        return bool(self.key) and set(self.query) <= PLAIN_OBJECT_QUERY


def parse_s3_request(environ: Mapping[str, Any], buckets: frozenset[str]) -> S3Request | None:
    """The request as (method, bucket, key, ...) when it addresses one of ``buckets``."""
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if raw_uri:
        parts = urlsplit(raw_uri)
        path, query_string = unquote(parts.path), parts.query
    else:
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        query_string = environ.get("QUERY_STRING", "")
    host = str(environ.get("HTTP_HOST", "")).split(":")[0]
    host_bucket = host.split(".")[0] if "." in host else ""
    if host_bucket in buckets and not host.replace(".", "").isdigit():
        bucket, key = host_bucket, path.lstrip("/")
    else:
        bucket, _, key = path.lstrip("/").partition("/")
    if bucket not in buckets:
        return None
    headers = {
        name[5:].replace("_", "-").lower(): str(value)
        for name, value in environ.items()
        if name.startswith("HTTP_")
    }
    return S3Request(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        bucket=bucket,
        key=key,
        query=parse_qs(query_string, keep_blank_values=True),
        headers=headers,
    )


@dataclass(frozen=True)
class WriteOutcome:
    """What S3 answered: the parts of the response an event is built from."""

    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""


def _version_from(headers: Mapping[str, str]) -> str | None:
    return headers.get("x-amz-version-id") or None


def classify_write(request: S3Request, outcome: WriteOutcome) -> list[tuple[str, str, str | None]]:
    """(event name, key, version id) for each object the request created or removed."""
    if not 200 <= outcome.status < 300:
        return []
    if request.method == "PUT" and request.is_plain_object_call:
        name = (
            "ObjectCreated:Copy" if "x-amz-copy-source" in request.headers else "ObjectCreated:Put"
        )
        return [(name, request.key, _version_from(outcome.headers))]
    if request.method == "POST" and request.key and set(request.query) >= {"uploadId"}:
        return [
            ("ObjectCreated:CompleteMultipartUpload", request.key, _version_from(outcome.headers))
        ]
    if request.method == "DELETE" and request.is_plain_object_call:
        return [_removal(request.key, request.query.get("versionId", [None])[0], outcome.headers)]
    if request.method == "POST" and not request.key and "delete" in request.query:
        return _batch_removals(outcome.body)
    return []


def _removal(
    key: str, requested_version: str | None, headers: Mapping[str, str]
) -> tuple[str, str, str | None]:
    if requested_version is None and headers.get("x-amz-delete-marker") == "true":
        return ("ObjectRemoved:DeleteMarkerCreated", key, _version_from(headers))
    return ("ObjectRemoved:Delete", key, requested_version or _version_from(headers))


def _batch_removals(body: bytes) -> list[tuple[str, str, str | None]]:
    """Events of a DeleteObjects (POST ?delete) response."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return []
    removals = []
    for deleted in root.iter(f"{S3_XML_NAMESPACE}Deleted"):

        def text(tag: str, element: ElementTree.Element = deleted) -> str | None:
            found = element.find(f"{S3_XML_NAMESPACE}{tag}")
            return found.text if found is not None else None

        key = text("Key") or ""
        if text("DeleteMarker") == "true" and text("VersionId") is None:
            removals.append(
                ("ObjectRemoved:DeleteMarkerCreated", key, text("DeleteMarkerVersionId"))
            )
        else:
            removals.append(("ObjectRemoved:Delete", key, text("VersionId")))
    return removals


WriteListener = Callable[[ObservedWrite], None]
StartResponse = Callable[..., Any]


class S3WriteObserver:
    """WSGI middleware around moto: reports accepted writes on the watched buckets, in order."""

    def __init__(self, app: Any, buckets: Iterable[str], listener: WriteListener) -> None:
        self.app = app
        self.buckets = frozenset(buckets)
        self.listener = listener
        self.sequencers = SequencerClock()
        self._order = threading.Lock()
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()

    @property
    def writes_in_flight(self) -> int:
        """Write requests moto has received but not yet answered."""
        with self._in_flight_lock:
            return self._in_flight

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        request = parse_s3_request(environ, self.buckets)
        if request is None or request.method not in ("PUT", "POST", "DELETE"):
            yield from self.app(environ, start_response)
            return
        with self._in_flight_lock:
            self._in_flight += 1
        try:
            captured: dict[str, Any] = {}

            def capturing_start_response(
                status: str, headers: list[tuple[str, str]], *rest: Any
            ) -> Any:
                captured["status"] = int(status.split(maxsplit=1)[0])
                captured["headers"] = {name.lower(): value for name, value in headers}
                return start_response(status, headers, *rest)

            body = b"".join(self.app(environ, capturing_start_response))
            outcome = WriteOutcome(captured.get("status", 500), captured.get("headers", {}), body)
            self._report(request, outcome, str(environ.get("REMOTE_ADDR", "127.0.0.1")))
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1
        yield body

    def _report(self, request: S3Request, outcome: WriteOutcome, source_ip: str) -> None:
        request_id = outcome.headers.get("x-amz-request-id") or uuid.uuid4().hex[:16].upper()
        etag = outcome.headers.get("etag", "").strip('"') or None
        with self._order:
            for event_name, key, version_id in classify_write(request, outcome):
                self.listener(
                    ObservedWrite(
                        bucket=request.bucket,
                        key=key,
                        event_name=event_name,
                        version_id=version_id,
                        sequencer=self.sequencers.next(),
                        event_time=datetime.now(UTC),
                        source_ip=source_ip,
                        request_id=request_id,
                        etag=etag,
                    )
                )
