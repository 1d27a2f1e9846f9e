"""The local TransactWriteItems is all-or-nothing, as DynamoDB's is.

Every test runs on the patched moto (tests/integration/conftest.py installs moto_fidelity):
a transaction whose later operation fails must leave the earlier ones unwritten, in the
table and in its stream, and say which operation failed in CancellationReasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.integration.harness import create_table

TABLE = "Transactions"


@pytest.fixture
def dynamodb(aws_env: None) -> Iterator[Any]:
    """A table with a sort key and a NEW_AND_OLD_IMAGES stream, on a fresh in-process moto."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        yield client


def _put(sk: str, **attributes: dict[str, str]) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "P"}, "sk": {"S": sk}, **attributes}}}


def _items(client: Any) -> dict[str, dict[str, Any]]:
    answer = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "P"}},
    )
    return {item["sk"]["S"]: item for item in answer["Items"]}


def _stream_events(client: Any) -> list[tuple[str, str]]:
    """(eventName, sort key) of every record on the table's stream, oldest first."""
    # The endpoint's trailing "/" is what moto's in-process router needs (see harness.py).
    streams = boto3.client(
        "dynamodbstreams",
        region_name="us-east-1",
        endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com/",
    )
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return [(r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"]) for r in records]


def _cancellation_codes(error: ClientError) -> list[str]:
    assert error.response["Error"]["Code"] == "TransactionCanceledException"
    return [reason["Code"] for reason in error.response["CancellationReasons"]]


def test_a_later_failed_condition_writes_nothing(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "P"}, "sk": {"S": "c"}, "v": {"S": "0"}})
    stream_before = _stream_events(dynamodb)

    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                _put("a", v={"S": "1"}),
                _put("b", v={"S": "1"}),
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": "P"}, "sk": {"S": "c"}, "v": {"S": "1"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    assert _cancellation_codes(raised.value) == ["None", "None", "ConditionalCheckFailed"]
    assert _items(dynamodb) == {"c": {"pk": {"S": "P"}, "sk": {"S": "c"}, "v": {"S": "0"}}}
    assert _stream_events(dynamodb) == stream_before


def test_a_later_write_that_fails_while_applying_undoes_the_earlier_ones(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "P"}, "sk": {"S": "b"}, "v": {"S": "0"}})
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "P"}, "sk": {"S": "c"}, "n": {"S": "x"}})
    before = _items(dynamodb)
    stream_before = _stream_events(dynamodb)

    # Every condition holds; the third write fails only when applied: ADD to a string.
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                _put("a", v={"S": "new"}),
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "P"}, "sk": {"S": "b"}},
                        "UpdateExpression": "SET v = :v",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":v": {"S": "changed"}},
                    }
                },
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "P"}, "sk": {"S": "c"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )

    assert _cancellation_codes(raised.value) == ["None", "None", "ValidationError"]
    assert _items(dynamodb) == before
    assert _stream_events(dynamodb) == stream_before


def test_a_failed_delete_puts_the_item_back_where_queries_find_it(dynamodb: Any) -> None:
    for sk in ("a", "b", "c"):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "P"}, "sk": {"S": sk}})
    assert sorted(_items(dynamodb)) == ["a", "b", "c"]  # the query index now holds a, b, c

    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "P"}, "sk": {"S": "b"}}}},
                _put("d"),
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "P"}, "sk": {"S": "c"}},
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )

    assert _cancellation_codes(raised.value) == ["None", "None", "ValidationError"]
    assert sorted(_items(dynamodb)) == ["a", "b", "c"]


def test_a_transaction_whose_operations_all_hold_applies_every_write(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "P"}, "sk": {"S": "b"}, "n": {"N": "1"}})

    dynamodb.transact_write_items(
        TransactItems=[
            _put("a", v={"S": "1"}),
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "P"}, "sk": {"S": "b"}},
                    "UpdateExpression": "ADD n :one",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )

    items = _items(dynamodb)
    assert items["a"]["v"] == {"S": "1"}
    assert items["b"]["n"] == {"N": "2"}
    assert _stream_events(dynamodb)[-2:] == [("INSERT", "a"), ("MODIFY", "b")]


def test_unpatched_gives_moto_as_released_and_the_patches_come_back() -> None:
    from blogpub_local import moto_fidelity
    from moto.core.responses import ActionResult
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    ours = (DynamoDBBackend.transact_write_items, Table.query, ActionResult.execute_result)
    assert DynamoDBBackend.transact_write_items is moto_fidelity._transact_write_items
    with moto_fidelity.unpatched():
        released = (DynamoDBBackend.transact_write_items, Table.query, ActionResult.execute_result)
        assert all(a is not b for a, b in zip(ours, released, strict=True))
        assert DynamoDBBackend.transact_write_items.__module__ == "moto.dynamodb.models"
    assert (DynamoDBBackend.transact_write_items, Table.query, ActionResult.execute_result) == ours
