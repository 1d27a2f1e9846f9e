"""events/*.json: the `sam local invoke -e` payloads are in AWS's documented shapes.

Handlers and other tests load these same files, so a payload that drifts from what AWS sends
would make every test built on it prove nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import pytest
from blogpub import keys
from blogpub.events import ListTotalChange, MonthCountChange, StreamChange
from blogpub.rebuild import RebuildCommand
from blogpub.table import PostRecord, table_changes
from boto3.dynamodb.types import TypeDeserializer

from tests.conftest import EVENTS, SEED_POST, load_event

S3_EVENT_FILES = ("s3-put.json", "s3-delete-marker.json", "s3-put-cjk.json")
SEED_KEY = f"_posts/{SEED_POST.name}"
CJK_KEY = "_posts/新媒体/春节 快乐.md"
SEQUENCER = re.compile(r"^[0-9A-F]+$")
DYNAMODB_TYPES = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}


def environment() -> dict[str, str]:
    variables: dict[str, str] = load_event("env.json")["Parameters"]
    return variables


def parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None
    return parsed


def sequencer_order(sequencer: str) -> str:
    """S3's rule: right-pad the shorter sequencer with zeros, then compare as strings."""
    return sequencer.ljust(64, "0")


def assert_s3_notification(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of an S3 event notification (version 2.1), checked field by field."""
    records: list[dict[str, Any]] = event["Records"]
    assert records
    for record in records:
        assert record["eventVersion"] == "2.1"
        assert record["eventSource"] == "aws:s3"
        assert re.match(r"^(ObjectCreated|ObjectRemoved):[A-Za-z]+$", record["eventName"])
        assert record["awsRegion"]
        parse_time(record["eventTime"])
        assert set(record) >= {"userIdentity", "requestParameters", "responseElements", "s3"}
        s3 = record["s3"]
        assert s3["s3SchemaVersion"] == "1.0"
        assert s3["configurationId"]
        bucket = s3["bucket"]
        assert bucket["name"] == environment()["SOURCE_BUCKET"]
        assert bucket["arn"] == f"arn:aws:s3:::{bucket['name']}"
        obj = s3["object"]
        assert obj["key"].isascii(), "S3 URL-encodes keys in notifications"
        assert obj["versionId"], "the source bucket is versioned"
        assert SEQUENCER.match(obj["sequencer"])
        if record["eventName"].startswith("ObjectCreated:"):
            assert isinstance(obj["size"], int) and obj["size"] > 0
            assert re.match(r"^[0-9a-f]{32}(-\d+)?$", obj["eTag"])
    return records


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_every_payload_is_a_json_object(path: Any) -> None:
    assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict)


@pytest.mark.parametrize("name", S3_EVENT_FILES)
def test_s3_payloads_are_s3_notifications(name: str) -> None:
    assert_s3_notification(load_event(name))


def test_the_put_event_describes_the_seed_post_byte_for_byte() -> None:
    (record,) = assert_s3_notification(load_event("s3-put.json"))
    obj = record["s3"]["object"]
    body = SEED_POST.read_bytes()
    assert record["eventName"] == "ObjectCreated:Put"
    assert unquote_plus(obj["key"]) == SEED_KEY
    assert obj["size"] == len(body)
    assert obj["eTag"] == hashlib.md5(body).hexdigest()  # single-part upload: the MD5


def test_the_delete_marker_event_comes_after_the_put_of_the_same_key() -> None:
    (put,) = assert_s3_notification(load_event("s3-put.json"))
    (delete,) = assert_s3_notification(load_event("s3-delete-marker.json"))
    assert delete["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert delete["s3"]["object"]["key"] == put["s3"]["object"]["key"]
    assert delete["s3"]["object"]["versionId"] != put["s3"]["object"]["versionId"]
    assert sequencer_order(delete["s3"]["object"]["sequencer"]) > sequencer_order(
        put["s3"]["object"]["sequencer"]
    )
    assert parse_time(delete["eventTime"]) > parse_time(put["eventTime"])
    assert "size" not in delete["s3"]["object"]


def test_the_cjk_key_is_form_encoded_as_s3_encodes_it() -> None:
    (record,) = assert_s3_notification(load_event("s3-put-cjk.json"))
    encoded = record["s3"]["object"]["key"]
    assert unquote_plus(encoded) == CJK_KEY
    # Spaces become "+", other bytes upper-case UTF-8 percent escapes; "/" stays.
    assert encoded == quote_plus(CJK_KEY, safe="/")
    assert "+" in encoded and "%20" not in encoded and " " not in encoded


def stream_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = load_event("stream-batch.json")["Records"]
    return records


def assert_dynamodb_json(image: dict[str, Any]) -> None:
    for name, value in image.items():
        assert isinstance(value, dict) and len(value) == 1, name
        ((kind, content),) = value.items()
        assert kind in DYNAMODB_TYPES, name
        if kind == "B":  # Lambda delivers binary attributes base64-encoded
            base64.b64decode(content, validate=True)


def from_lambda_image(image: dict[str, Any]) -> dict[str, Any]:
    """A stream image as Python values; binary values come base64-encoded in Lambda events."""
    deserializer = TypeDeserializer()

    def value(typed: Any) -> Any:
        ((kind, content),) = typed.items()
        if kind == "B":
            return base64.b64decode(content)
        if kind == "BS":
            return {base64.b64decode(item) for item in content}
        if kind == "L":
            return [value(item) for item in content]
        if kind == "M":
            return {name: value(item) for name, item in content.items()}
        return deserializer.deserialize(typed)

    return {name: value(typed) for name, typed in image.items()}


def test_the_stream_batch_is_a_lambda_dynamodb_stream_event() -> None:
    records = stream_records()
    assert records
    table_name = environment()["TABLE_NAME"]
    stream_arn = re.compile(
        rf"^arn:aws:dynamodb:[a-z0-9-]+:\d{{12}}:table/{re.escape(table_name)}"
        r"/stream/\d{4}-\d\d-\d\dT[\d:.]+$"
    )
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventName"] in {"INSERT", "MODIFY", "REMOVE"}
        assert record["eventVersion"] == "1.1"
        assert re.match(r"^[0-9a-f]{32}$", record["eventID"])
        assert stream_arn.match(record["eventSourceARN"])
        change = record["dynamodb"]
        assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert change["SequenceNumber"].isdigit()
        assert isinstance(change["SizeBytes"], int) and change["SizeBytes"] > 0
        assert isinstance(change["ApproximateCreationDateTime"], int | float)
        assert set(change["Keys"]) == {keys.PK, keys.SK}
        assert_dynamodb_json(change["Keys"])
        if record["eventName"] != "REMOVE":
            assert_dynamodb_json(change["NewImage"])
            assert {k: change["NewImage"][k] for k in change["Keys"]} == change["Keys"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(set(numbers)), "sequence numbers increase within a shard"


def test_the_stream_batch_is_one_publish_of_the_seed_post() -> None:
    images = [
        from_lambda_image(r["dynamodb"]["NewImage"])
        for r in stream_records()
        if r["eventName"] == "INSERT"
    ]
    (post,) = [i for i in images if i[keys.SK] == keys.POST_SK]
    assert post[keys.PK] == keys.post_pk(SEED_KEY)
    record = PostRecord.from_values(post)
    assert (record.body_html or "").startswith("<p>")
    memberships = [i for i in images if keys.partition_of(i[keys.PK])[0] == "membership"]
    for item in memberships:
        assert item[keys.SK] == keys.membership_sk(record.sort_key or "", SEED_KEY)
    listed = {keys.partition_of(item[keys.PK])[1] for item in memberships}
    # Hexo: categories [A, B, C] list the post on A, A/B and A/B/C.
    assert {"category:新媒体", "category:新媒体/趣头条", "category:新媒体/趣头条/分类"} <= listed
    assert listed == {ref.list_id for ref in record.lists}
    changes = [
        typed
        for image in images
        for typed in table_changes(
            StreamChange("INSERT", image[keys.PK], image[keys.SK], image, None, "1")
        )
    ]
    totals = {c.ref.list_id: c.new_count for c in changes if isinstance(c, ListTotalChange)}
    assert totals == dict.fromkeys(listed, 1)
    months = {
        (c.ref.list_id, c.year, c.month): c.new_count
        for c in changes
        if isinstance(c, MonthCountChange)
    }
    assert months == {(list_id, 2022, 2): 1 for list_id in listed}


def test_the_sqs_message_wraps_an_s3_notification() -> None:
    (message,) = load_event("sqs-wrapped-s3.json")["Records"]
    assert message["eventSource"] == "aws:sqs"
    assert message["md5OfBody"] == hashlib.md5(message["body"].encode("utf-8")).hexdigest()
    assert set(message["attributes"]) >= {"ApproximateReceiveCount", "SentTimestamp"}
    queue_name = environment()["REBUILD_QUEUE_URL"].rsplit("/", 1)[-1]
    assert message["eventSourceARN"].endswith(f":{queue_name}")
    (record,) = assert_s3_notification(json.loads(message["body"]))
    assert unquote_plus(record["s3"]["object"]["key"]) == SEED_KEY


def test_the_eventbridge_event_is_an_s3_object_created_event() -> None:
    event = load_event("eventbridge-s3.json")
    assert (event["source"], event["detail-type"], event["version"]) == (
        "aws.s3",
        "Object Created",
        "0",
    )
    detail = event["detail"]
    bucket = environment()["SOURCE_BUCKET"]
    assert detail["bucket"]["name"] == bucket
    assert event["resources"] == [f"arn:aws:s3:::{bucket}"]
    obj = detail["object"]
    assert unquote_plus(obj["key"]) == SEED_KEY
    assert obj["version-id"] and SEQUENCER.match(obj["sequencer"])
    assert obj["size"] == len(SEED_POST.read_bytes())
    parse_time(event["time"])


def test_rollback_payloads_name_a_post_or_a_moment() -> None:
    prefix = environment()["POSTS_PREFIX"]
    history = load_event("rollback-history.json")
    assert history["action"] == "history" and history["key"].startswith(prefix)
    post = load_event("rollback-post.json")
    assert post["action"] == "rollback" and post["key"].startswith(prefix)
    assert isinstance(post["steps"], int) and post["steps"] >= 1
    assert post["requested_by"] and post["reason"]
    site = load_event("rollback-site.json")
    assert site["action"] == "rollback-site"
    assert parse_time(site["at"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert site["dry_run"] is True
    assert site["requested_by"] and site["reason"]


def test_the_partial_rebuild_batch_holds_one_command_cut_short() -> None:
    messages = load_event("rebuild-queue-partial.json")["Records"]
    queue_name = environment()["REBUILD_QUEUE_URL"].rsplit("/", 1)[-1]
    unreadable = []
    for message in messages:
        assert message["eventSource"] == "aws:sqs"
        assert message["eventSourceARN"].endswith(f":{queue_name}")
        assert message["md5OfBody"] == hashlib.md5(message["body"].encode("utf-8")).hexdigest()
        body = json.loads(message["body"])
        try:
            command = RebuildCommand.from_body(body)
        except TypeError:
            unreadable.append(message["messageId"])
            continue
        assert command.body() == message["body"]  # as Rebuilder sends it
    assert unreadable == [messages[1]["messageId"]]
    assert len({message["messageId"] for message in messages}) == len(messages)
