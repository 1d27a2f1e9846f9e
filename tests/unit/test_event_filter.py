"""Lambda event filtering as the local stream mapping runs it (blogpub_local.event_filter)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from blogpub import keys
from blogpub_local.cfn_yaml import load_template
from blogpub_local.event_filter import FilterCriteriaError, parse_filter_criteria

REPO = Path(__file__).resolve().parents[2]


def criteria(*patterns: dict[str, Any]) -> Any:
    return parse_filter_criteria({"Filters": [{"Pattern": json.dumps(p)} for p in patterns]})


def record(pk: str, sk: str, event: str = "INSERT", **image: Any) -> dict[str, Any]:
    return {
        "eventName": event,
        "dynamodb": {
            "Keys": {"pk": {"S": pk}, "sk": {"S": sk}},
            "NewImage": {"pk": {"S": pk}, "sk": {"S": sk}, **image},
        },
    }


def test_no_criteria_lets_every_record_through() -> None:
    assert parse_filter_criteria(None).accepts(record("a", "b"))
    assert parse_filter_criteria({}).accepts({})


def test_fields_are_anded_filters_and_rule_lists_ored() -> None:
    both = criteria({"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": ["POST"]}}}})
    assert both.accepts(record("POST#a", "POST"))
    assert not both.accepts(record("POST#a", "POST", event="MODIFY"))
    assert not both.accepts(record("URL#a", "URL"))
    either = criteria(
        {"eventName": ["MODIFY", "REMOVE"]}, {"dynamodb": {"Keys": {"sk": {"S": ["URL"]}}}}
    )
    assert either.accepts(record("x", "y", event="REMOVE"))
    assert either.accepts(record("URL#a", "URL"))
    assert not either.accepts(record("x", "y"))


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ({"prefix": "POST#"}, "POST#a", True),
        ({"prefix": "POST#"}, "URL#a", False),
        ({"suffix": ".md"}, "a.md", True),
        ({"suffix": ".md"}, "a.html", False),
        ({"equals-ignore-case": "page"}, "PAGE", True),
        ({"anything-but": ["PAGE"]}, "POST", True),
        ({"anything-but": ["PAGE"]}, "PAGE", False),
        ({"anything-but": "PAGE"}, "PAGE", False),
        ({"numeric": [">", 0, "<=", 5]}, "5", True),  # a DynamoDB N is text
        ({"numeric": [">", 0, "<=", 5]}, "6", False),
        ({"numeric": ["=", 3]}, "three", False),
        ("12", "12", True),
        (12, "12", False),  # a literal compares within its JSON type
        ("", "", True),
    ],
)
def test_operators_on_a_present_value(rule: Any, value: str, expected: bool) -> None:
    pattern = {"dynamodb": {"NewImage": {"v": {"S": [rule]}}}}
    image = {"v": {"S": value}}
    assert criteria(pattern).accepts(record("p", "s", **image)) is expected


def test_binaries_and_sets_are_matched_as_the_records_json_carries_them() -> None:
    # Given a filter on a binary's base64 text and on one member of a string set
    wanted = criteria({"dynamodb": {"NewImage": {"data": {"B": ["AAE="]}, "tags": {"SS": ["b"]}}}})
    # Then a record read by botocore (bytes, a set) matches as its JSON (base64, a list)
    # would, the same as the wire reader's record
    botocore_record = record("a", "b", data={"B": b"\x00\x01"}, tags={"SS": {"a", "b"}})
    wire_record = record("a", "b", data={"B": "AAE="}, tags={"SS": ["a", "b"]})
    assert wanted.accepts(botocore_record) and wanted.accepts(wire_record)
    other = record("a", "b", data={"B": b"\x00\x02"}, tags={"SS": {"a", "b"}})
    assert not wanted.accepts(other)


def test_exists_and_absent_fields() -> None:
    has = criteria({"dynamodb": {"NewImage": {"etag": [{"exists": True}]}}})
    lacks = criteria({"dynamodb": {"NewImage": {"etag": [{"exists": False}]}}})
    with_etag = record("p", "s", etag={"S": "x"})
    assert has.accepts(with_etag) and not lacks.accepts(with_etag)
    assert lacks.accepts(record("p", "s")) and not has.accepts(record("p", "s"))
    # any other rule needs the field: anything-but does not match a record without it
    assert not criteria(
        {"dynamodb": {"OldImage": {"sk": {"S": [{"anything-but": ["x"]}]}}}}
    ).accepts(record("p", "s"))


@pytest.mark.parametrize(
    ("filter_criteria", "fault"),
    [
        ({"Filters": "x"}, "list of Filters"),
        ({"Filters": [{"Pattern": "{"}]}, "not JSON"),
        ({"Filters": [{"Pattern": "[]"}]}, "not a JSON object"),
        ({"Filters": [{"Pattern": '{"a": {"wildcard": "x*"}}'}]}, "expected an object"),
        ({"Filters": [{"Pattern": '{"a": [{"wildcard": "x*"}]}'}]}, "no operator 'wildcard'"),
        ({"Filters": [{"Pattern": '{"a": [{"numeric": [">"]}]}'}]}, "numeric takes"),
        ({"Filters": [{"Pattern": '{"a": []}'}]}, "non-empty list"),
        ({"Filters": [{"Pattern": "{}"}] * 11}, "at most 10"),
        ({"Filters": [{"Pattern": '{"a": ["' + "x" * 4100 + '"]}'}]}, "the limit is 4096"),
    ],
)
def test_patterns_lambda_would_refuse_are_refused(filter_criteria: Any, fault: str) -> None:
    with pytest.raises(FilterCriteriaError, match=fault):
        parse_filter_criteria(filter_criteria)


def test_the_templates_index_filter_drops_page_states_and_nothing_else() -> None:
    template = load_template(REPO / "template.yaml")
    mapping = template["Resources"]["BuildIndexesTableStream"]["Properties"]
    index_filter = parse_filter_criteria(mapping["FilterCriteria"])
    page_state = (keys.page_state_pk("/categories/a/"), keys.PAGE_STATE_SK)
    others = [
        (keys.post_pk("_posts/a.md"), "POST"),
        (keys.post_pk("_posts/PAGE.md"), "POST"),
        (keys.PAGES_PK, "source/PAGE.md"),
        (keys.PAGE_SET_PK, keys.PAGE_SET_PK),
        (keys.page_state_pk("/x/"), "POST"),
    ]
    for event in ("INSERT", "MODIFY", "REMOVE"):
        assert not index_filter.accepts(record(*page_state, event=event))
        for pk, sk in others:
            assert index_filter.accepts(record(pk, sk, event=event)), (pk, sk)
