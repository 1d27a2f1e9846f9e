"""Lambda event filtering (an event source mapping's ``FilterCriteria``), as Lambda runs it.

A mapping's filters are ORed: a record that matches none of them is dropped before it is
batched, so it neither opens nor fills a batch and no invocation sees it; the shard's
checkpoint moves past it all the same. Within one pattern every field must match (AND);
a field's list of rules matches when any rule does (OR). The operators are the ones
Lambda's filter rule syntax documents: equals (a string, number, ``null`` or ``""``),
``equals-ignore-case``, ``anything-but`` (a list of values), ``numeric`` (``=`` or a range),
``exists``, ``prefix`` and ``suffix``. A pattern with any other operator is refused when the
template is read, as Lambda refuses it when the mapping is created.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Lambda's quota: five filters a mapping by default, up to ten on request.
MAX_FILTERS = 10
MAX_PATTERN_CHARACTERS = 4096
_NUMERIC_OPERATORS = frozenset({"=", "<", "<=", ">", ">="})
_OPERATORS = frozenset(
    {"equals-ignore-case", "anything-but", "numeric", "exists", "prefix", "suffix"}
)
_ABSENT = object()


class FilterCriteriaError(ValueError):
    """A FilterCriteria Lambda would refuse (the message names the pattern and the fault)."""


@dataclass(frozen=True)
class FilterCriteria:
    """The parsed patterns of one mapping; no pattern at all lets every record through."""

    patterns: tuple[Mapping[str, Any], ...] = ()

    def accepts(self, record: Mapping[str, Any]) -> bool:
        return not self.patterns or any(_matches(pattern, record) for pattern in self.patterns)


def parse_filter_criteria(criteria: Any) -> FilterCriteria:
    """A mapping's ``FilterCriteria`` property (``{"Filters": [{"Pattern": "<json>"}]}``)."""
    if not criteria:
        return FilterCriteria()
    filters = criteria.get("Filters") if isinstance(criteria, Mapping) else None
    if not isinstance(filters, list):
        raise FilterCriteriaError("FilterCriteria needs a list of Filters")
    if len(filters) > MAX_FILTERS:
        raise FilterCriteriaError(f"{len(filters)} filters; Lambda allows at most {MAX_FILTERS}")
    patterns = []
    for number, one in enumerate(filters, 1):
        text = one.get("Pattern") if isinstance(one, Mapping) else None
        if not isinstance(text, str):
            raise FilterCriteriaError(f"filter {number} has no Pattern string")
        if len(text) > MAX_PATTERN_CHARACTERS:
            raise FilterCriteriaError(
                f"filter {number}: the pattern is {len(text)} characters; "
                f"the limit is {MAX_PATTERN_CHARACTERS}"
            )
        try:
            pattern = json.loads(text)
        except json.JSONDecodeError as error:
            raise FilterCriteriaError(
                f"filter {number}: the pattern is not JSON: {error}"
            ) from error
        if not isinstance(pattern, dict):
            raise FilterCriteriaError(f"filter {number}: the pattern is not a JSON object")
        _check_pattern(pattern, f"filter {number}")
        patterns.append(pattern)
    return FilterCriteria(tuple(patterns))


def _check_pattern(pattern: Mapping[str, Any], where: str) -> None:
    for field, value in pattern.items():
        place = f"{where}: {field}"
        if isinstance(value, Mapping):
            _check_pattern(value, place)
        elif isinstance(value, list) and value:
            for rule in value:
                _check_rule(rule, place)
        else:
            raise FilterCriteriaError(f"{place}: expected an object or a non-empty list of rules")


def _check_rule(rule: Any, place: str) -> None:
    if rule is None or isinstance(rule, str | int | float | bool):
        return
    if not isinstance(rule, Mapping) or len(rule) != 1:
        raise FilterCriteriaError(f"{place}: a rule is a value or an object of one operator")
    ((operator, argument),) = rule.items()
    if operator not in _OPERATORS:
        raise FilterCriteriaError(f"{place}: Lambda's filters have no operator {operator!r}")
    if operator in ("prefix", "suffix", "equals-ignore-case") and not isinstance(argument, str):
        raise FilterCriteriaError(f"{place}: {operator} takes a string")
    if operator == "exists" and not isinstance(argument, bool):
        raise FilterCriteriaError(f"{place}: exists takes true or false")
    if operator == "anything-but" and not (
        isinstance(argument, str | int | float)
        or (isinstance(argument, list) and all(isinstance(v, str | int | float) for v in argument))
    ):
        raise FilterCriteriaError(f"{place}: anything-but takes a value or a list of values")
    if operator == "numeric":
        _check_numeric(argument, place)


def _check_numeric(argument: Any, place: str) -> None:
    pairs = argument if isinstance(argument, list) else []
    if len(pairs) not in (2, 4) or any(
        pairs[i] not in _NUMERIC_OPERATORS or not isinstance(pairs[i + 1], int | float)
        for i in range(0, len(pairs), 2)
    ):
        raise FilterCriteriaError(f"{place}: numeric takes [op, number] or a range of two")


def _matches(pattern: Mapping[str, Any], value: Any) -> bool:
    for field, rules in pattern.items():
        inner = value.get(field, _ABSENT) if isinstance(value, Mapping) else _ABSENT
        if isinstance(rules, Mapping):
            if not _matches(rules, inner if isinstance(inner, Mapping) else {}):
                return False
        elif not any(_rule_matches(rule, inner) for rule in rules):
            return False
    return True


def _rule_matches(rule: Any, value: Any) -> bool:
    if isinstance(rule, Mapping) and "exists" in rule:
        return (value is not _ABSENT) is rule["exists"]
    if value is _ABSENT:
        return False
    value = as_event_json(value)
    if isinstance(value, list):  # a rule matches an array when it matches one of its values
        return any(_rule_matches(rule, item) for item in value)
    if not isinstance(rule, Mapping):
        return _equals(rule, value)
    ((operator, argument),) = rule.items()
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(argument)
    if operator == "suffix":
        return isinstance(value, str) and value.endswith(argument)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == argument.casefold()
    if operator == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_equals(one, value) for one in excluded)
    return _numeric(argument, value)


def as_event_json(value: Any) -> Any:
    """A value as a stream record's JSON carries it to Lambda (and to its filters): a binary
    (``B``, or an item of ``BS``) as its base64 text, a set (``SS``, ``NS``, ``BS``) as a
    list; anything else as it is. A record read by botocore holds bytes and may hold sets;
    the wire reader's holds JSON already."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return value


def _equals(rule: Any, value: Any) -> bool:
    """Equal values of one JSON type: the text "12" is not the number 12 (``numeric`` reads
    text as a number, which is how a DynamoDB ``N`` is compared)."""
    if isinstance(rule, str) or isinstance(value, str):
        return isinstance(rule, str) and isinstance(value, str) and rule == value
    if rule is None or value is None or isinstance(rule, bool) or isinstance(value, bool):
        return rule is value
    return isinstance(value, int | float) and float(rule) == float(value)


def _numeric(argument: Sequence[Any], value: Any) -> bool:
    number = _number(value)
    if number is None:
        return False
    checks = {
        "=": number.__eq__,
        "<": number.__lt__,
        "<=": number.__le__,
        ">": number.__gt__,
        ">=": number.__ge__,
    }
    return all(checks[argument[i]](argument[i + 1]) for i in range(0, len(argument), 2))


def _number(value: Any) -> float | None:
    # a DynamoDB number reaches the filter as text ({"N": "12"}): Lambda compares it as one
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
