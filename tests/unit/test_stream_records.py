"""BuildIndexesFunction reads each stream record on its own, once, before building pages."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from blogpub import keys
from blogpub.errors import StreamBatchError
from blogpub.events import stream_changes
from blogpub.service import read_stream_records
from blogpub.table import table_changes

from tests.conftest import load_event


def documented_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = load_event("stream-batch.json")["Records"]
    return records


def unreadable(record: dict[str, Any], sequence_number: str) -> dict[str, Any]:
    """A registry item of a list kind this release does not know (written by a newer one)."""
    broken = copy.deepcopy(record)
    broken["dynamodb"]["Keys"] = {
        keys.PK: {"S": keys.registry_pk("series")},
        keys.SK: {"S": "series:iberia"},
    }
    broken["dynamodb"]["NewImage"] = {**broken["dynamodb"]["Keys"], "count": {"N": "1"}}
    broken["dynamodb"].pop("OldImage", None)
    broken["dynamodb"]["SequenceNumber"] = sequence_number
    return broken


def test_readable_records_come_out_decoded_in_their_order_with_no_failure() -> None:
    records = documented_records()
    changes, typed, failed = read_stream_records(records)
    assert changes == stream_changes({"Records": records})
    assert typed == [meaning for change in changes for meaning in table_changes(change)]
    assert typed  # the documented batch reaches index pages
    assert failed == []


def test_an_unreadable_record_is_reported_by_sequence_number_and_the_others_are_kept() -> None:
    records = documented_records()
    bad = unreadable(records[0], "555")
    changes, typed, failed = read_stream_records([records[0], bad, *records[1:]])
    assert failed == ["555"]
    assert [c.sequence_number for c in changes] == [
        r["dynamodb"]["SequenceNumber"] for r in records
    ]
    assert typed == [meaning for change in changes for meaning in table_changes(change)]


def test_a_batch_of_which_no_record_can_be_read_fails_the_invocation() -> None:
    record = documented_records()[0]
    with pytest.raises(StreamBatchError, match="All records failed processing: 2 unreadable"):
        read_stream_records([unreadable(record, "1"), unreadable(record, "2")])


def test_an_empty_batch_reads_as_no_change() -> None:
    assert read_stream_records([]) == ([], [], [])


def test_images_decode_as_boto3s_type_deserializer_decodes_them() -> None:
    # binary values are plain bytes here (blogpub.dynamodb_json), boto3's Binary wraps them
    from boto3.dynamodb.types import TypeDeserializer

    attributes: dict[str, Any] = {
        "s": {"S": "编程"},
        "empty": {"S": ""},
        "n": {"N": "12.50"},
        "exponent": {"N": "-1E+3"},
        "long": {"N": "1234567890123456789012345678901234567"},
        "yes": {"BOOL": True},
        "null": {"NULL": True},
        "b": {"B": "AP8="},
        "bs": {"BS": ["AQ==", "Ag=="]},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": []}, {"M": {"b": {"B": "Aw=="}}}]},
        "m": {"M": {"ss": {"SS": ["c"]}, "n": {"NULL": True}, "deep": {"M": {}}}},
    }
    record = copy.deepcopy(documented_records()[0])
    record["dynamodb"]["NewImage"] = {**record["dynamodb"]["Keys"], **attributes}
    (change,) = stream_changes({"Records": [record]})
    boto3s = TypeDeserializer()
    assert change.new_image is not None
    for name, value in attributes.items():
        decoded = change.new_image[name]
        expected = _unwrapped(boto3s.deserialize(_with_bytes(value)))
        assert decoded == expected and type(decoded) is type(expected), name
    assert str(change.new_image["n"]) == "12.50"  # the Decimal keeps its digits


def _unwrapped(value: Any) -> Any:
    """boto3's decoded value with its Binary wrappers replaced by the bytes they hold."""
    from boto3.dynamodb.types import Binary

    if isinstance(value, Binary):
        return value.value
    if isinstance(value, set):
        return {_unwrapped(item) for item in value}
    if isinstance(value, list):
        return [_unwrapped(item) for item in value]
    if isinstance(value, dict):
        return {name: _unwrapped(item) for name, item in value.items()}
    return value


def _with_bytes(value: Any) -> Any:
    """Lambda's base64 binary as the SDK's own client would have it, for TypeDeserializer."""
    import base64

    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(item) for item in inner]}
    if kind == "L":
        return {"L": [_with_bytes(item) for item in inner]}
    if kind == "M":
        return {"M": {key: _with_bytes(item) for key, item in inner.items()}}
    return value
