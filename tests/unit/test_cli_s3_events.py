"""S3 notifications as AWS sends them, and which write request makes which event."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote_plus

from blogpub_local.s3_events import (
    ObservedWrite,
    S3Request,
    SequencerClock,
    WriteOutcome,
    classify_write,
    encode_event_key,
    parse_s3_request,
    s3_event_record,
)


def test_event_keys_are_form_encoded_and_round_trip() -> None:
    key = "_posts/新媒体/a b+c.md"
    encoded = encode_event_key(key)
    assert encoded == "_posts/%E6%96%B0%E5%AA%92%E4%BD%93/a+b%2Bc.md"
    assert unquote_plus(encoded) == key


def test_sequencers_increase_as_hex_of_one_width() -> None:
    clock = SequencerClock()
    values = [clock.next() for _ in range(50)]
    assert all(len(v) == len(values[0]) for v in values)
    assert [int(v, 16) for v in values] == sorted({int(v, 16) for v in values})


def test_created_record_has_the_aws_shape() -> None:
    write = ObservedWrite(
        bucket="src",
        key="_posts/a b.md",
        event_name="ObjectCreated:Put",
        version_id="v1",
        sequencer="00000000000000000A",
        event_time=datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        source_ip="127.0.0.1",
        request_id="REQ",
        etag="abc",
        size=12,
    )
    record = s3_event_record(write, region="eu-west-1")
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["eventTime"] == "2024-01-02T03:04:05.678Z"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::src"
    assert record["s3"]["object"] == {
        "key": "_posts/a+b.md",
        "size": 12,
        "eTag": "abc",
        "versionId": "v1",
        "sequencer": "00000000000000000A",
    }


def test_removed_record_has_no_size_or_etag() -> None:
    write = ObservedWrite(
        "src",
        "_posts/a.md",
        "ObjectRemoved:DeleteMarkerCreated",
        "m1",
        "0B",
        datetime.now(UTC),
        "127.0.0.1",
        "R",
    )
    assert s3_event_record(write, region="us-east-1")["s3"]["object"] == {
        "key": "_posts/a.md",
        "versionId": "m1",
        "sequencer": "0B",
    }


def _request(
    method: str, key: str, query: dict | None = None, headers: dict | None = None
) -> S3Request:
    return S3Request(method, "src", key, query or {}, headers or {})


def test_writes_are_classified_as_s3_names_them() -> None:
    ok = WriteOutcome(200, {"x-amz-version-id": "v2"})
    assert classify_write(_request("PUT", "_posts/a.md", {"x-id": ["PutObject"]}), ok) == [
        ("ObjectCreated:Put", "_posts/a.md", "v2")
    ]
    copy = _request("PUT", "_posts/a.md", headers={"x-amz-copy-source": "src/posts/b.md"})
    assert classify_write(copy, ok)[0][0] == "ObjectCreated:Copy"
    complete = _request("POST", "_posts/a.md", {"uploadId": ["u"]})
    assert classify_write(complete, ok)[0][0] == "ObjectCreated:CompleteMultipartUpload"
    marker = WriteOutcome(204, {"x-amz-delete-marker": "true", "x-amz-version-id": "m"})
    assert classify_write(_request("DELETE", "_posts/a.md"), marker) == [
        ("ObjectRemoved:DeleteMarkerCreated", "_posts/a.md", "m")
    ]
    versioned = _request("DELETE", "_posts/a.md", {"versionId": ["v1"]})
    assert classify_write(versioned, WriteOutcome(204, {"x-amz-version-id": "v1"})) == [
        ("ObjectRemoved:Delete", "_posts/a.md", "v1")
    ]


def test_sub_resource_calls_and_failures_make_no_event() -> None:
    assert (
        classify_write(_request("PUT", "_posts/a.md", {"tagging": [""]}), WriteOutcome(200, {}))
        == []
    )
    assert classify_write(_request("PUT", "_posts/a.md"), WriteOutcome(403, {})) == []


def test_batch_delete_reports_each_object() -> None:
    body = (
        b'<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Deleted><Key>_posts/a.md</Key><DeleteMarker>true</DeleteMarker>"
        b"<DeleteMarkerVersionId>m1</DeleteMarkerVersionId></Deleted>"
        b"<Deleted><Key>_posts/b.md</Key><VersionId>v9</VersionId></Deleted></DeleteResult>"
    )
    request = S3Request("POST", "src", "", {"delete": [""]}, {})
    assert classify_write(request, WriteOutcome(200, {}, body)) == [
        ("ObjectRemoved:DeleteMarkerCreated", "_posts/a.md", "m1"),
        ("ObjectRemoved:Delete", "_posts/b.md", "v9"),
    ]


def test_requests_are_parsed_path_and_virtual_host_style() -> None:
    buckets = frozenset({"src"})
    path_style = parse_s3_request(
        {
            "REQUEST_METHOD": "PUT",
            "RAW_URI": "/src/_posts/%E4%BD%A0%20x.md?x-id=PutObject",
            "HTTP_HOST": "127.0.0.1:4566",
        },
        buckets,
    )
    assert path_style is not None and path_style.key == "_posts/你 x.md"
    virtual = parse_s3_request(
        {"REQUEST_METHOD": "DELETE", "RAW_URI": "/_posts/a.md", "HTTP_HOST": "src.localhost:4566"},
        buckets,
    )
    assert virtual is not None and (virtual.bucket, virtual.key) == ("src", "_posts/a.md")
    assert parse_s3_request({"RAW_URI": "/other/x", "HTTP_HOST": "127.0.0.1"}, buckets) is None
