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
