"""An SQS event source mapping: receive, invoke with Lambda's SQS batch, delete what succeeded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from blogpub_local.lambda_runtime import InvocationResult, LocalFunction
from blogpub_local.poller import Activity, Poller
from blogpub_local.template import SqsEventSource

POLL_INTERVAL_SECONDS = 0.1


def lambda_sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One received message in the shape Lambda hands to an SQS-triggered function."""
    attributes = dict(message.get("Attributes") or {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "AIDALOCALBLOGPUB"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", "0"
            ),
        },
        "messageAttributes": {
            name: {key[0].lower() + key[1:]: value for key, value in attribute.items()}
            for name, attribute in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def succeeded_messages(
    records: Sequence[Mapping[str, Any]], result: InvocationResult, report_item_failures: bool
) -> list[Mapping[str, Any]]:
    """The records Lambda deletes from the queue after this invocation."""
    if result.failed:
        return []
    payload = result.payload if isinstance(result.payload, dict) else {}
    failures = payload.get("batchItemFailures") or [] if report_item_failures else []
    failed_ids = {
        failure.get("itemIdentifier") for failure in failures if isinstance(failure, dict)
    }
    return [record for record in records if record["messageId"] not in failed_ids]


class SqsPoller(Poller):
    """Polls one queue and feeds one function; failed messages return after their visibility."""

    def __init__(
        self,
        function: LocalFunction,
        source: SqsEventSource,
        queue_url: str,
        sqs_client: Any,
        *,
        region: str,
        activity: Activity | None = None,
    ) -> None:
        super().__init__(
            thread_name="sqs-poller", poll_interval_seconds=POLL_INTERVAL_SECONDS, activity=activity
        )
        self.function = function
        self.source = source
        self.queue_url = queue_url
        self.client = sqs_client
        self.region = region
        self.results: list[InvocationResult] = []

    def _source_has_pending(self) -> bool:
        """Messages waiting or being processed (visible or in flight)."""
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return any(int(count) for count in attributes.values())

    def _poll_once(self) -> bool:
        messages = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, self.source.batch_size)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return False
        records = [lambda_sqs_record(m, self.source.queue_arn, self.region) for m in messages]
        result = self.function.invoke({"Records": records})
        self.results.append(result)
        done = succeeded_messages(records, result, self.source.report_batch_item_failures)
        if done:
            self.client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(done)
                ],
            )
        return True
