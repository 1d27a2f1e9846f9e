"""DynamoDB's item-size rules (developer guide, "DynamoDB item sizes and formats").

An item's size is its attribute names (UTF-8 bytes) plus its values: a string's UTF-8 bytes,
a number's significant digits at one byte per two plus one byte, a binary's raw bytes, one
byte for a boolean or null, a list or map 3 bytes plus one per element (and a map's keys),
a set its members. Values are AttributeValues as on the wire (binary as base64 text) or as
botocore parses them (binary as bytes).

The bench bills capacity units with them (bench/capacity.py), and the local stack gives each
stream record the ``SizeBytes`` DynamoDB gives it: its keys' and images' sizes by these
rules, which is what AWS's sample stream events carry (26, 59 and 38 bytes for the Lambda
guide's INSERT, MODIFY and REMOVE of ``{"Id": 101, "Message": …}``).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from typing import Any


def value_size(value: Mapping[str, Any]) -> int:
    """The size of one AttributeValue, its name not counted."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(base64.b64decode(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: member}) for member in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(member) for member in inner)
    if kind == "M":
        return 3 + sum(
            1 + len(name.encode("utf-8")) + value_size(member) for name, member in inner.items()
        )
    raise ValueError(f"not an AttributeValue type: {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """The size of an item (names and values); 0 for none."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def stream_record_size(change: Mapping[str, Any]) -> int:
    """A stream record's ``SizeBytes``: its keys and the images it carries."""
    return sum(item_size(change.get(part)) for part in ("Keys", "NewImage", "OldImage"))
