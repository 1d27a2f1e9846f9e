"""DynamoDB JSON (the wire's AttributeValue maps) to Python values and back.

boto3's ``TypeSerializer``/``TypeDeserializer`` do this, but importing any of boto3 imports
all of it (s3transfer's manager, resources), about 12 CPU ms of a cold start that only
needs botocore's clients (bench/README.md, section 3b). The rules are DynamoDB's and
boto3's: numbers are ``Decimal`` in DynamoDB's number context (38 digits, no float, no NaN
or infinity), binary values are ``bytes``, sets are sets of one kind, lists and tuples are
lists, mappings are maps.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

# DynamoDB's number range and precision: anything it would round or refuse raises here.
NUMBER_CONTEXT = Context(
    Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)


def _number(value: int | Decimal) -> str:
    text = str(NUMBER_CONTEXT.create_decimal(value))
    if text in ("Infinity", "-Infinity", "NaN", "sNaN", "-NaN", "-sNaN"):
        raise TypeError(f"DynamoDB holds no {text}")
    return text


def _is_number(value: object) -> bool:
    if isinstance(value, float):
        raise TypeError("floats are not DynamoDB numbers: use int or Decimal")
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def serialize(value: Any) -> dict[str, Any]:
    """``value`` as an AttributeValue (``{"S": ...}``, ``{"N": ...}``, ...)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Set):
        members = list(value)
        if members and all(_is_number(member) for member in members):
            return {"NS": [_number(member) for member in members]}
        if members and all(isinstance(member, str) for member in members):
            return {"SS": members}
        if members and all(isinstance(member, bytes | bytearray) for member in members):
            return {"BS": [bytes(member) for member in members]}
        raise TypeError(f"not a DynamoDB set (empty or mixed): {value!r}")
    if isinstance(value, Mapping):
        return {"M": {str(name): serialize(member) for name, member in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [serialize(member) for member in value]}
    raise TypeError(f"no DynamoDB type for {type(value).__name__}: {value!r}")


def deserialize(attribute: Mapping[str, Any], *, base64_binary: bool = False) -> Any:
    """The Python value of an AttributeValue: numbers as ``Decimal``, binary as ``bytes``.
    ``base64_binary``: binary values are base64 text, as Lambda's stream events carry them."""
    ((kind, value),) = attribute.items()
    if kind == "S":
        return value
    if kind == "N":
        return NUMBER_CONTEXT.create_decimal(value)
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "B":
        return _binary(value, base64_binary)
    if kind == "M":
        return {
            name: deserialize(member, base64_binary=base64_binary) for name, member in value.items()
        }
    if kind == "L":
        return [deserialize(member, base64_binary=base64_binary) for member in value]
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {NUMBER_CONTEXT.create_decimal(member) for member in value}
    if kind == "BS":
        return {_binary(member, base64_binary) for member in value}
    raise TypeError(f"not a DynamoDB type: {kind}")


def _binary(value: Any, base64_text: bool) -> bytes:
    return base64.b64decode(value) if base64_text and isinstance(value, str) else bytes(value)
