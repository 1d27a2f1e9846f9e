"""Issue 17: moto answers from a process of its own, so the functions and moto use two cores.

The stack still behaves as one endpoint: its S3 events are reported before a writer gets its
answer (the idle check sees them at once), a table write wakes only the stream pollers and an
SQS send only the queue pollers, and a port already taken is refused with the port named.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from blogpub_local.poller import Activity
from blogpub_local.stack import LOCAL_ACCESS_KEY, LocalStack, StackOptions, StackStartError
from blogpub_local.stream_poller import WireStreamReader, encoded_stream_record
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.conftest import TEMPLATE, s3_client, stack_client

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 30


class Held:
    """A handler that holds each invocation until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.calls += 1
        self.release.wait(WAIT_SECONDS)
        return {"batchItemFailures": []}


@pytest.fixture(scope="module")
def held_stack() -> Iterator[tuple[LocalStack, Held, Held]]:
    render, build = Held(), Held()
    options = StackOptions(
        TEMPLATE,
        stack_name="blogpub-moto-process",  # unique: a stack of its own
        handler_overrides={"RenderPostFunction": render, "BuildIndexesFunction": build},
    )
    with LocalStack(options) as running:
        yield running, render, build
        render.release.set()
        build.release.set()


def changed(activity: Activity, seen: int) -> bool:
    return activity.wait(seen, WAIT_SECONDS)


def test_moto_answers_from_another_process_that_ends_with_the_stack() -> None:
    stack = LocalStack(StackOptions(TEMPLATE, stack_name="blogpub-moto-process-life"))
    with stack:
        pid = stack.moto_pid
        assert pid is not None and pid != os.getpid()
        assert stack.info is not None
        s3 = s3_client(stack)
        s3.put_object(Bucket=stack.info.site_bucket, Key="a.txt", Body=b"answered")
        assert s3.get_object(Bucket=stack.info.site_bucket, Key="a.txt")["Body"].read() == (
            b"answered"
        )
    assert stack.moto_pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_upload_is_not_idle_the_moment_its_put_returns(
    held_stack: tuple[LocalStack, Held, Held],
) -> None:
    stack, render, _ = held_stack
    assert stack.info is not None
    s3_client(stack).put_object(Bucket=stack.info.source_bucket, Key="_posts/x.md", Body=b"x")

    report = stack.idle_report()  # the event is in the parent's queue or being invoked

    assert not report["idle"]
    assert report["s3_events_undelivered"] + report["async_invocations"] >= 1
    render.release.set()
    assert stack.wait_until_idle(timeout=WAIT_SECONDS)
    assert render.calls == 1


def test_the_idle_check_asks_no_one_while_an_invocation_it_counts_runs(
    held_stack: tuple[LocalStack, Held, Held],
) -> None:
    stack, render, _ = held_stack
    assert stack.info is not None
    render.release.clear()
    asked: list[str] = []

    def count(**kwargs: Any) -> None:
        asked.append(kwargs["event_name"])

    stack.clients["sqs"].meta.events.register("before-call.sqs.GetQueueAttributes", count)
    try:
        s3_client(stack).put_object(Bucket=stack.info.source_bucket, Key="_posts/y.md", Body=b"y")
        deadline = time.monotonic() + WAIT_SECONDS
        while not stack.invoker.in_flight.count and time.monotonic() < deadline:
            time.sleep(0.01)  # the event reaches the held function

        assert not stack.is_idle()
        assert asked == []  # the running invocation answered: no queue was asked
        render.release.set()
        assert stack.wait_until_idle(timeout=WAIT_SECONDS)
        assert asked  # idle is only concluded after asking the queues
    finally:
        stack.clients["sqs"].meta.events.unregister("before-call.sqs.GetQueueAttributes", count)


def test_a_table_write_wakes_the_stream_pollers_and_an_sqs_send_the_queue_pollers(
    held_stack: tuple[LocalStack, Held, Held],
) -> None:
    stack, _, build = held_stack
    assert stack.info is not None
    build.release.set()
    table, queues = stack.table_activity.generation, stack.queue_activity.generation

    stack_client(stack, "sqs").send_message(
        QueueUrl=stack.info.queues["RebuildQueue"], MessageBody="{}"
    )
    assert changed(stack.queue_activity, queues)
    assert stack.table_activity.generation == table

    queues = stack.queue_activity.generation
    stack_client(stack, "dynamodb").put_item(
        TableName=stack.info.table, Item={"pk": {"S": "TEST#wake"}, "sk": {"S": "x"}}
    )
    assert changed(stack.table_activity, table)
    time.sleep(0.5)  # a queue wake-up, if any, would have been reported by now
    assert stack.queue_activity.generation == queues
    assert stack.wait_until_idle(timeout=WAIT_SECONDS)


def test_stream_records_read_from_the_wire_make_the_events_botocores_parse_makes(
    held_stack: tuple[LocalStack, Held, Held],
) -> None:
    # Given items of every attribute type on the table's stream
    stack, _, build = held_stack
    assert stack.info is not None
    build.release.set()
    dynamodb, streams = stack.clients["dynamodb"], stack.clients["dynamodbstreams"]
    every_type = {
        "pk": {"S": "TEST#wire"},
        "blob": {"B": b"\x00\xff"},
        "blobs": {"BS": [b"\x01", b"\x02"]},
        "n": {"N": "12.50"},
        "ns": {"NS": ["1", "2"]},
        "ss": {"SS": ["a", "编程"]},
        "m": {"M": {"b": {"B": b"\x03"}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
    }
    for sort_key in ("a", "b"):
        dynamodb.put_item(TableName=stack.info.table, Item={**every_type, "sk": {"S": sort_key}})
    dynamodb.delete_item(TableName=stack.info.table, Key={"pk": every_type["pk"], "sk": {"S": "a"}})
    arn = dynamodb.describe_table(TableName=stack.info.table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    wire = WireStreamReader(
        streams, stack.endpoint, stack.region, Credentials(LOCAL_ACCESS_KEY, LOCAL_ACCESS_KEY)
    )

    def events(reader: Any) -> list[Any]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = reader.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        return [json.loads(encoded_stream_record(r, arn, stack.region)[1]) for r in records]

    # When the records are read unparsed, then Lambda's events are the same, binary as base64
    parsed, unparsed = events(streams), events(wire)
    assert unparsed == parsed
    ours = [e for e in unparsed if e["dynamodb"]["Keys"]["pk"] == every_type["pk"]]
    assert [e["eventName"] for e in ours] == ["INSERT", "INSERT", "REMOVE"]
    assert ours[0]["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}
    assert isinstance(ours[0]["dynamodb"]["ApproximateCreationDateTime"], int)
    # and an answer other than 200 is botocore's own error
    with pytest.raises(ClientError):
        wire.get_records(ShardIterator="not-an-iterator", Limit=1)
    assert stack.wait_until_idle(timeout=WAIT_SECONDS)


def test_the_stacks_http_reads_header_blocks_without_the_email_parser(
    held_stack: tuple[LocalStack, Held, Held],
) -> None:
    import http.client

    from blogpub_local import http_headers

    assert http.client.parse_headers is http_headers.parse_headers


def test_a_port_already_taken_is_refused_with_the_port_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = LocalStack(StackOptions(TEMPLATE, port=port, stack_name="blogpub-port-taken"))
        with pytest.raises(StackStartError, match=f"cannot listen on 127.0.0.1:{port}"):
            stack.start()
        stack.stop()


def test_the_endpoint_keeps_a_connection_alive_across_requests(
    held_stack: tuple[LocalStack, Held, Held],
) -> None:
    """werkzeug's server closed each connection after one answer; SDKs reuse theirs now."""
    import http.client
    from urllib.parse import urlsplit

    stack, _, _ = held_stack
    endpoint = urlsplit(stack.endpoint)
    connection = http.client.HTTPConnection(endpoint.hostname or "", endpoint.port, timeout=10)
    try:
        answers = []
        sockets = []
        for method, body in (("GET", None), ("PUT", b""), ("GET", None)):
            connection.request(method, "/blogpub-keep-alive-probe", body=body)
            answer = connection.getresponse()
            answers.append((answer.status, answer.getheader("Connection"), answer.read()))
            sockets.append(connection.sock)
        assert all(sock is not None and sock is sockets[0] for sock in sockets)
        assert [connection_header for _, connection_header, _ in answers] == [None] * 3
        assert answers[0][0] == 404 and b"NoSuchBucket" in answers[0][2]
        assert answers[2][0] == 200  # the PUT between created the bucket on the same connection
    finally:
        connection.close()


def test_moto_served_in_process_keeps_connections_alive_like_the_stack() -> None:
    """The bench's cold starts reach moto through ``serving_moto``: the stack's keep-alive
    answers (moto's ThreadedMotoServer closes each connection after one answer), moto's own
    S3 behind them."""
    import http.client
    from urllib.parse import urlsplit

    from blogpub_local.moto_fidelity import install
    from blogpub_local.moto_process import serving_moto

    install()
    with serving_moto() as endpoint:
        address = urlsplit(endpoint)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
        try:
            answers, sockets = [], []
            for method, body in (("GET", None), ("PUT", b""), ("GET", None)):
                connection.request(method, "/blogpub-serving-moto-probe", body=body)
                answer = connection.getresponse()
                answers.append((answer.status, answer.read()))
                sockets.append(connection.sock)
        finally:
            connection.close()
    assert all(sock is not None and sock is sockets[0] for sock in sockets)
    assert answers[0][0] == 404 and b"NoSuchBucket" in answers[0][1]
    assert answers[2][0] == 200  # the PUT between created the bucket on the same connection
