"""blogpub.dynamodb_json writes and reads DynamoDB JSON as boto3's TypeSerializer and
TypeDeserializer do (the package no longer imports boto3: dynamodb_json.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from blogpub.dynamodb_json import deserialize, serialize
from blogpub.table import from_item, to_item
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

VALUES: list[Any] = [
    "",
    "text with 中文 and \u2028",
    0,
    -7,
    12345678901234567890123456789012345678,
    Decimal("3.25"),
    Decimal("-0.000001"),
    True,
    False,
    None,
    b"\x00\xffbinary",
    bytearray(b"bytes"),
    ["a", 1, None, [b"x", {"k": "v"}]],
    ("tuple", 2),
    {"name": "value", "nested": {"n": 3, "list": []}, "empty": {}},
    {"one", "two"},
    {1, 2, Decimal("2.5")},
    {b"a", b"b"},
]


def canonical(attribute: Any) -> Any:
    """Sets as sorted lists, so two serialisations compare whatever their set order."""
    if isinstance(attribute, dict):
        return {
            kind: sorted(inner, key=repr)
            if kind in ("SS", "NS", "BS")
            else canonical(inner)
            if kind in ("M", "L")
            else inner
            for kind, inner in attribute.items()
        }
    if isinstance(attribute, list):
        return [canonical(member) for member in attribute]
    return attribute


def plain(value: Any) -> Any:
    """boto3's deserialised value with its Binary wrapper taken off."""
    if isinstance(value, Binary):
        return bytes(value.value)
    if isinstance(value, list):
        return [plain(member) for member in value]
    if isinstance(value, dict):
        return {name: plain(member) for name, member in value.items()}
    if isinstance(value, set):
        return {plain(member) for member in value}
    return value


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_are_written_as_boto3_writes_them(value: Any) -> None:
    assert canonical(serialize(value)) == canonical(TypeSerializer().serialize(value))


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_are_read_as_boto3_reads_them_with_binary_as_bytes(value: Any) -> None:
    attribute = TypeSerializer().serialize(value)
    assert deserialize(attribute) == plain(TypeDeserializer().deserialize(attribute))


@pytest.mark.parametrize(
    "value",
    [1.5, float("nan"), Decimal("Infinity"), Decimal("NaN"), 10**40 + 1, {1, "a"}, object()],
    ids=repr,
)
def test_what_dynamodb_cannot_hold_is_refused_as_boto3_refuses_it(value: Any) -> None:
    with pytest.raises(Exception):  # noqa: B017 - TypeError or decimal's Inexact, as boto3's
        serialize(value)
    with pytest.raises(Exception):  # noqa: B017
        TypeSerializer().serialize(value)


def test_an_empty_set_is_refused_before_dynamodb_refuses_it() -> None:
    with pytest.raises(TypeError, match="empty"):
        serialize(set())


def test_items_round_trip_with_numbers_as_ints_and_binary_as_bytes() -> None:
    values = {"pk": "POST#a", "n": 3, "ratio": Decimal("0.5"), "body_gz": b"\x78\x9c", "x": None}
    assert from_item(to_item(values)) == {
        "pk": "POST#a",
        "n": 3,
        "ratio": 0.5,
        "body_gz": b"\x78\x9c",
    }
