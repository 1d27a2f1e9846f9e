"""An SQS event source mapping: receive, invoke with Lambda's SQS batch, delete what succeeded.

As Lambda's SQS pollers do, it invokes several batches at once, up to the function's
concurrency; a batch's messages stay invisible until it is done, so none is handed out twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from blogpub_local.delivery import InFlight
from blogpub_local.lambda_runtime import InvocationResult, LocalFunction
from blogpub_local.poller import Activity, Poller
from blogpub_local.template import SqsEventSource

POLL_INTERVAL_SECONDS = 0.1
_log = logging.getLogger("blogpub.local")


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
        self._batches = ThreadPoolExecutor(
            max_workers=function.concurrency, thread_name_prefix="sqs-batch"
        )
        self._free_slots = threading.BoundedSemaphore(function.concurrency)
        self._batches_running = InFlight()

    def stop(self) -> None:
        super().stop()
        self._batches.shutdown(wait=True)

    def _source_has_pending(self) -> bool:
        """Messages waiting or being processed (visible or in flight)."""
        if self._batches_running.count:
            return True
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return any(int(count) for count in attributes.values())

    def _poll_once(self) -> bool:
        if not self._free_slots.acquire(timeout=self.poll_interval_seconds):
            return True  # every slot busy: look again when one may be free
        try:
            messages = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max(1, min(10, self.source.batch_size)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception:
            self._free_slots.release()
            raise
        if not messages:
            self._free_slots.release()
            return False
        records = [lambda_sqs_record(m, self.source.queue_arn, self.region) for m in messages]
        self._batches_running.__enter__()  # counted before the poll ends, for the idle check
        self._batches.submit(self._process, records)
        return True

    def _process(self, records: list[dict[str, Any]]) -> None:
        try:
            self._invoke_and_delete(records)
        except Exception:  # the messages return after their visibility timeout, as on AWS
            _log.warning("sqs-poller: a batch failed to complete", exc_info=True)
        finally:
            self._batches_running.__exit__()
            self._free_slots.release()

    def _invoke_and_delete(self, records: list[dict[str, Any]]) -> None:
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
