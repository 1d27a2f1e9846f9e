"""The local stack refuses what AWS refuses (issue 16), and writes nothing of a refused request.

DynamoDB: partition key 2,048 bytes, sort key 1,024 bytes (ValidationException, moto's own
AWS wording); an item over 400 KB cancels the transaction (ValidationError for that item);
more than 100 items or 4 MB is a ValidationException. S3: a key over 1,024 bytes is a 400
KeyTooLongError.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from blogpub_local.moto_fidelity import ITEM_TOO_LARGE, TRANSACTION_TOO_LARGE
from botocore.exceptions import ClientError
from moto import mock_aws

TABLE = "Limits"
BUCKET = "limits"


@pytest.fixture
def dynamodb(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def put(pk: str, sk: str, payload: str = "") -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": sk}}
    if payload:
        item["body"] = {"S": payload}
    return {"Put": {"TableName": TABLE, "Item": item}}


def stored(client: Any) -> int:
    return int(client.scan(TableName=TABLE, Select="COUNT")["Count"])


def refused(client: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=items)
    assert stored(client) == 0  # nothing partly written
    error: dict[str, Any] = raised.value.response
    return error


@pytest.mark.parametrize(
    ("pk", "sk", "says"),
    [
        ("p" * 2049, "s", "Size of hashkey has exceeded the maximum size limit of2048 bytes"),
        ("p", "s" * 1025, "Aggregated size of all range keys has exceeded the size limit of 1024"),
        ("é" * 1025, "s", "Size of hashkey"),  # bytes of UTF-8, not characters
    ],
)
def test_a_key_past_dynamodbs_limit_fails_the_whole_request(
    dynamodb: Any, pk: str, sk: str, says: str
) -> None:
    error = refused(dynamodb, [put("ok", "first"), put(pk, sk)])
    assert error["Error"]["Code"] == "ValidationException"
    assert says in error["Error"]["Message"]


def test_keys_at_the_limit_are_written(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put("p" * 2048, "s" * 1024)])
    assert stored(dynamodb) == 1


def test_an_item_over_400_kb_cancels_the_transaction(dynamodb: Any) -> None:
    error = refused(dynamodb, [put("ok", "first"), put("big", "item", "x" * (400 * 1024))])
    assert error["Error"]["Code"] == "TransactionCanceledException"
    reasons = error["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ValidationError" and reasons[1]["Message"] == ITEM_TOO_LARGE


def test_an_item_of_400_000_bytes_is_written(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put("big", "item", "x" * 400_000)])
    assert stored(dynamodb) == 1


def test_more_than_100_items_is_refused(dynamodb: Any) -> None:
    error = refused(dynamodb, [put("p", f"s{i}") for i in range(101)])
    assert error["Error"]["Code"] == "ValidationException"
    assert "less than or equal to 100" in error["Error"]["Message"]


def test_more_than_4_mb_in_one_transaction_is_refused(dynamodb: Any) -> None:
    items = [put("p", f"s{i}", "x" * (390 * 1024)) for i in range(11)]
    error = refused(dynamodb, items)
    assert error["Error"]["Code"] == "ValidationException"
    assert error["Error"]["Message"] == TRANSACTION_TOO_LARGE


def test_an_s3_key_over_1024_bytes_is_refused(aws_env: None) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="k" * 1024, Body=b"fits")
        with pytest.raises(ClientError) as raised:
            s3.put_object(Bucket=BUCKET, Key="k" * 1023 + "é", Body=b"too long")
        assert raised.value.response["Error"]["Code"] == "KeyTooLongError"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert keys == ["k" * 1024]
