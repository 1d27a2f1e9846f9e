"""blogpub_local.moto_fidelity: faster moto that answers as moto (and DynamoDB) would."""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections import Counter
from typing import Any

import boto3
import pytest
from blogpub_local.moto_fidelity import serialize_plain_result
from moto import mock_aws
from moto.core.responses import ActionResult
from moto.s3.models import S3Backend

from tests.integration.harness import Pipeline, create_table

POST = """---
title: 'Fidelity {index}'
categories: [编程, Dockone, 周报]
tags: [moto]
date: 2022-02-0{day} 10:00:00
---

<p>Body {index} with <b>markup</b>.</p>
"""


def test_fast_serialiser_matches_moto_walk_on_every_pipeline_response(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: Counter[str] = Counter()
    mismatches: list[str] = []

    def both_serialisers(self: ActionResult, context: Any) -> Any:
        walked = ActionResult.moto_execute_result(self, context)  # type: ignore[attr-defined]
        fast = serialize_plain_result(context, self.result)
        if fast is not None:
            operation = f"{context.service_model.service_name}.{context.operation_model.name}"
            compared[operation] += 1
            same = fast[:2] == walked[:2] and json.loads(fast[2]) == json.loads(walked[2])
            if not same:
                mismatches.append(operation)
        return walked

    monkeypatch.setattr(ActionResult, "execute_result", both_serialisers)

    for index in range(4):
        pipeline.put(f"_posts/f{index}.md", POST.format(index=index, day=index + 1))
    pipeline.put("_posts/f0.md", POST.format(index="0 again", day=9))
    pipeline.delete("_posts/f1.md")
    pipeline.build()

    assert mismatches == []
    for operation in (
        "dynamodb.GetItem",
        "dynamodb.TransactWriteItems",
        "dynamodb.Query",
        "dynamodbstreams.GetRecords",
    ):
        assert compared[operation] > 0, f"{operation} never took the fast path: {compared}"


def test_fast_serialiser_writes_every_attribute_type_as_moto_does(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blogpub_local import moto_fidelity

    answers: list[tuple[str, Any, Any]] = []

    def both_serialisers(self: ActionResult, context: Any) -> Any:
        walked = ActionResult.moto_execute_result(self, context)  # type: ignore[attr-defined]
        fast = serialize_plain_result(context, self.result)
        answers.append((context.operation_model.name, fast, walked))
        return walked

    every_type = {
        "s": {"S": "编程"},
        "n": {"N": "12.50"},
        "yes": {"BOOL": False},
        "null": {"NULL": True},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "l": {"L": [{"S": "x"}, {"M": {"n": {"N": "1"}}}, {"L": []}]},
        "m": {"M": {"ss": {"SS": ["c"]}, "deep": {"M": {}}}},
        "b": {"B": b"\x00\xff"},
        "bs": {"BS": [b"\x01"]},
        "lb": {"L": [{"B": b"\x02"}]},
    }
    with mock_aws():
        moto_fidelity.install()
        monkeypatch.setattr(ActionResult, "execute_result", both_serialisers)
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        plain = {k: v for k, v in every_type.items() if k not in ("b", "bs", "lb")}
        for sort_key, attributes in (("plain", plain), ("binary", every_type)):
            item = {"pk": {"S": "p"}, "sk": {"S": sort_key}, **attributes}
            client.put_item(TableName="t", Item=item)
            got = client.get_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": sort_key}})
            assert got["Item"] == item
        client.query(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
        )
    reads = [(n, fast, walked) for n, fast, walked in answers if n in ("GetItem", "Query")]
    assert len(reads) == 3 and all(fast is not None for _, fast, _ in reads)
    for name, fast, walked in reads:
        assert fast[0] == walked[0] and json.loads(fast[2]) == json.loads(walked[2]), name


def _all_pages(client: Any, request: dict[str, Any]) -> tuple[list[str], int]:
    found: list[str] = []
    pages = 0
    while True:
        response = client.query(**request)
        pages += 1
        found += [item["sk"]["S"] for item in response["Items"]]
        if "LastEvaluatedKey" not in response:
            return found, pages
        request = {**request, "ExclusiveStartKey": response["LastEvaluatedKey"]}


def test_query_reads_the_key_range_in_dynamodb_order(aws_env: None) -> None:
    rng = random.Random(7)
    alphabet = "0123456789-:T#abc周报编程é"
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        stored: dict[str, set[str]] = {"a": set(), "b": set()}
        for _ in range(400):
            pk = rng.choice("ab")
            sk = "2022-0" + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
            client.put_item(TableName="t", Item={"pk": {"S": pk}, "sk": {"S": sk}})
            stored[pk].add(sk)
        # A query between writes builds the partition's order; later writes must keep it.
        client.query(
            TableName="t",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "a"}},
        )
        for sk in sorted(stored["a"])[::3]:
            client.delete_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": sk}})
            stored["a"].discard(sk)
        for index in range(50):
            sk = f"2022-0{index % 10}#new{index}"
            client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": sk}})
            stored["a"].add(sk)

        in_order = sorted(stored["a"], key=lambda sk: sk.encode("utf-8"))
        conditions = [
            ("pk = :pk", {}, in_order),
            (
                "pk = :pk AND begins_with(sk, :p)",
                {":p": "2022-03"},
                [s for s in in_order if s.startswith("2022-03")],
            ),
            (
                "pk = :pk AND sk BETWEEN :lo AND :hi",
                {":lo": "2022-02", ":hi": "2022-05"},
                [s for s in in_order if "2022-02" <= s <= "2022-05"],
            ),
            ("pk = :pk AND sk < :v", {":v": "2022-04"}, [s for s in in_order if s < "2022-04"]),
            ("pk = :pk AND sk >= :v", {":v": "2022-0周"}, [s for s in in_order if s >= "2022-0周"]),
            ("pk = :pk AND sk = :v", {":v": in_order[5]}, [in_order[5]]),
        ]
        for expression, extra, expected in conditions:
            values = {":pk": {"S": "a"}} | {k: {"S": v} for k, v in extra.items()}
            for forward in (True, False):
                request = {
                    "TableName": "t",
                    "KeyConditionExpression": expression,
                    "ExpressionAttributeValues": values,
                    "ScanIndexForward": forward,
                    "Limit": 7,
                }
                found, pages = _all_pages(client, request)
                assert found == (expected if forward else expected[::-1]), expression
                assert pages >= len(expected) // 7


# The values of the simple SET/ADD/REMOVE updates below: numbers, a list, an empty string, a map.
SIMPLE_UPDATE_VALUES: dict[str, Any] = {
    ":d": {"N": "3"},
    ":half": {"N": "0.25"},
    ":names": {"L": [{"S": "编程"}, {"S": "周报"}]},
    ":empty": {"S": ""},
    ":map": {"M": {"a": {"N": "1"}, "b": {"BOOL": True}}},
}


def _without_pk(image: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in image.items() if name != "pk"}


def test_a_transactions_simple_updates_leave_what_moto_update_item_leaves(aws_env: None) -> None:
    from blogpub_local import moto_fidelity
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    names = {f"#{name}": name for name in ("n", "c", "names", "e", "gone", "fresh", "m", "keep")}
    values = SIMPLE_UPDATE_VALUES
    updates = [
        "ADD #n :d, #c :half SET #names = :names, #e = :empty REMOVE #gone",
        "add #fresh :d",
        "REMOVE #gone",
        "SET #m = :map ADD #n :d",
    ]
    with mock_aws():
        moto_fidelity.install()
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        start = {"n": {"N": "2"}, "c": {"N": "1.5"}, "gone": {"S": "x"}, "keep": {"S": "k"}}
        for pk in ("moto", "direct"):
            client.put_item(TableName="t", Item={"pk": {"S": pk}, "sk": {"S": "s"}, **start})
        for expression in updates:
            assert moto_fidelity.simple_actions(expression) is not None
            used_names = {k: v for k, v in names.items() if k in expression}
            used_values = {k: v for k, v in values.items() if k in expression}
            request = {
                "TableName": "t",
                "UpdateExpression": expression,
                "ExpressionAttributeNames": used_names,
                **({"ExpressionAttributeValues": used_values} if used_values else {}),
            }
            client.update_item(Key={"pk": {"S": "moto"}, "sk": {"S": "s"}}, **request)
            client.transact_write_items(
                TransactItems=[
                    {"Update": {"Key": {"pk": {"S": "direct"}, "sk": {"S": "s"}}, **request}}
                ]
            )
        items = {
            pk: client.get_item(TableName="t", Key={"pk": {"S": pk}, "sk": {"S": "s"}})["Item"]
            for pk in ("moto", "direct")
        }
        assert _without_pk(items["direct"]) == _without_pk(items["moto"])
        assert items["direct"]["n"] == {"N": "8"} and items["direct"]["c"] == {"N": "1.75"}
        changes: dict[str, list[tuple[Any, ...]]] = {"moto": [], "direct": []}
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table("t")
        for record in (stream_record.record for stream_record in table.stream_shard.items):
            change = record["dynamodb"]
            changes[change["Keys"]["pk"]["S"]].append(
                (
                    record["eventName"],
                    _without_pk(change.get("NewImage", {})),
                    _without_pk(change.get("OldImage", {})),
                )
            )
        assert changes["direct"] == changes["moto"]
        assert len(changes["direct"]) == 1 + len(updates)
        # A type mismatch is left to moto, which cancels the transaction as DynamoDB does.
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": "t",
                            "Key": {"pk": {"S": "direct"}, "sk": {"S": "s"}},
                            "UpdateExpression": "ADD #keep :d",
                            "ExpressionAttributeNames": {"#keep": "keep"},
                            "ExpressionAttributeValues": {":d": {"N": "1"}},
                        }
                    }
                ]
            )


def test_a_transactions_simple_update_of_a_missing_item_creates_it_with_one_insert_record(
    aws_env: None,
) -> None:
    from blogpub_local import moto_fidelity
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    names = {f"#{name}": name for name in ("n", "c", "names", "e", "gone", "m")}
    values = SIMPLE_UPDATE_VALUES
    updates = [
        "ADD #n :d, #c :half SET #names = :names, #e = :empty REMOVE #gone",
        "SET #m = :map ADD #n :d",
    ]
    with mock_aws():
        moto_fidelity.install()
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        for position, expression in enumerate(updates):
            assert moto_fidelity.simple_actions(expression) is not None
            request = {
                "TableName": "t",
                "UpdateExpression": expression,
                "ExpressionAttributeNames": {k: v for k, v in names.items() if k in expression},
                "ExpressionAttributeValues": {k: v for k, v in values.items() if k in expression},
            }
            sort_key = {"sk": {"S": f"s{position}"}}
            client.update_item(Key={"pk": {"S": "moto"}, **sort_key}, **request)
            client.transact_write_items(
                TransactItems=[{"Update": {"Key": {"pk": {"S": "direct"}, **sort_key}, **request}}]
            )
            items = {
                pk: client.get_item(TableName="t", Key={"pk": {"S": pk}, **sort_key})["Item"]
                for pk in ("moto", "direct")
            }
            assert _without_pk(items["direct"]) == _without_pk(items["moto"])
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table("t")
        inserts: dict[str, list[dict[str, Any]]] = {"moto": [], "direct": []}
        for record in (stream_record.record for stream_record in table.stream_shard.items):
            assert record["eventName"] == "INSERT"
            change = record["dynamodb"]
            inserts[change["Keys"]["pk"]["S"]].append(_without_pk(change["NewImage"]))
        # moto's UpdateItem streams the bare key first; DynamoDB streams one INSERT, the item.
        assert inserts["moto"][0::2] == [{"sk": {"S": "s0"}}, {"sk": {"S": "s1"}}]
        assert inserts["direct"] == inserts["moto"][1::2]
        assert inserts["direct"][0]["n"] == {"N": "3"}
        assert inserts["direct"][1]["m"] == values[":map"]


def test_items_are_built_and_refused_at_the_size_moto_refuses_them(aws_env: None) -> None:
    from blogpub_local import moto_fidelity
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    def attributes(total: int) -> dict[str, Any]:
        # 300 attributes "a000".."a299" (4 bytes a name) whose values fill up to ``total`` bytes.
        names = [f"a{index:03}" for index in range(300)]
        filler = total - 4 * len(names) - (len(names) - 1)  # the "x" values: one byte each
        values = ["x"] * (len(names) - 1) + ["y" * filler]
        return {name: {"S": value} for name, value in zip(names, values, strict=True)}

    def built(total: int) -> Item | str:
        try:
            return Item(DynamoType({"S": "p"}), DynamoType({"S": "s"}), attributes(total))
        except ItemSizeTooLarge:
            return "refused"

    with mock_aws():
        moto_fidelity.install()
        ours = {total: built(total) for total in (2_000, 405_000, 405_001)}
        with moto_fidelity.unpatched():
            motos = {total: built(total) for total in (2_000, 405_000, 405_001)}
    assert ours[405_001] == motos[405_001] == "refused"
    for total in (2_000, 405_000):
        item, moto_item = ours[total], motos[total]
        assert isinstance(item, Item) and isinstance(moto_item, Item)
        assert item.size() == moto_item.size() == total
        assert item.to_json() == moto_item.to_json()
        assert type(item.attrs) is type(moto_item.attrs)


def test_concurrent_requests_are_answered_one_at_a_time(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two invocations write one key at once (a duplicate event racing its original): the
    second PutObject waits for the first's answer. moto alone answers it meanwhile and closes
    the buffer of the key the first is still answering from (ValueError in the first)."""
    store = S3Backend.put_object
    calls = itertools.count()
    first_stored, release = threading.Event(), threading.Event()

    def pause_after_the_first(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = store(self, *args, **kwargs)
        if next(calls) == 0:  # stored, not yet answered
            first_stored.set()
            assert release.wait(30)
        return key

    monkeypatch.setattr(S3Backend, "put_object", pause_after_the_first)
    errors: list[Exception] = []
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="site")

        def put(body: bytes, done: threading.Event) -> None:
            try:
                s3.put_object(Bucket="site", Key="index.html", Body=body)
            except Exception as error:  # the thread's failure, asserted below
                errors.append(error)
            done.set()

        first_done, second_done = threading.Event(), threading.Event()
        threading.Thread(target=put, args=(b"first", first_done)).start()
        assert first_stored.wait(30)
        threading.Thread(target=put, args=(b"second", second_done)).start()
        answered_meanwhile = second_done.wait(1.0)
        release.set()
        assert first_done.wait(30) and second_done.wait(30)
        stored = s3.get_object(Bucket="site", Key="index.html")["Body"].read()

    assert not answered_meanwhile
    assert errors == []
    assert stored == b"second"


def test_an_error_answer_reuses_its_services_table_of_error_shapes(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto builds a service's whole table of error shapes for each error it answers (a
    settings read of a site without _config.yml: NoSuchKey on every publish); the table is
    built once a service, and the answers are moto's."""
    from blogpub_local import moto_fidelity
    from botocore.exceptions import ClientError
    from moto.core.errors import ErrorLookupFactory

    built: Counter[str] = Counter()
    create = ErrorLookupFactory._create_error_lut

    def counted(service_model: Any) -> Any:
        built[service_model.metadata["serviceId"]] += 1
        return create(service_model)

    monkeypatch.setattr(ErrorLookupFactory, "_create_error_lut", staticmethod(counted))
    monkeypatch.setattr(moto_fidelity, "_ERROR_LOOKUPS", {})

    def missing_config_error() -> dict[str, Any]:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket="source", Key="_config.yml")
        return dict(caught.value.response["Error"])

    with mock_aws():
        moto_fidelity.install()
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="source")
        ours = [missing_config_error() for _ in range(3)]
        ours_built = dict(built)
        with moto_fidelity.unpatched():
            motos = [missing_config_error() for _ in range(2)]

    assert ours_built == {"S3": 1}
    assert built == {"S3": 3}  # moto's own builds it for each answer
    assert all(error["Code"] == "NoSuchKey" for error in ours)
    assert ours[0] == motos[0]


def test_stream_records_carry_the_size_bytes_aws_sample_events_carry(aws_env: None) -> None:
    """The Lambda guide's sample stream events (an item ``{"Id": 101, "Message": …}`` put,
    changed, deleted) carry SizeBytes 26, 59 and 38: the keys' and images' sizes by
    DynamoDB's item-size rules. moto's own is the length of the record's JSON."""
    from blogpub_local import moto_fidelity

    def size_bytes() -> list[int]:
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        table = dynamodb.create_table(
            TableName="samples",
            KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        key = {"Id": {"N": "101"}}
        dynamodb.put_item(TableName="samples", Item={**key, "Message": {"S": "New item!"}})
        dynamodb.put_item(
            TableName="samples", Item={**key, "Message": {"S": "This item has changed"}}
        )
        dynamodb.delete_item(TableName="samples", Key=key)
        streams = boto3.client(  # the endpoint's "/" for moto's router, as the harness does
            "dynamodbstreams",
            region_name="us-east-1",
            endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com/",
        )
        arn = table["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "REMOVE"]
        return [record["dynamodb"]["SizeBytes"] for record in records]

    with mock_aws():
        moto_fidelity.install()
        ours = size_bytes()
    with mock_aws(), moto_fidelity.unpatched():
        motos = size_bytes()

    assert ours == [26, 59, 38]
    assert all(moto > aws for moto, aws in zip(motos, ours, strict=True))
