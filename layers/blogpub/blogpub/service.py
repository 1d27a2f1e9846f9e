"""Wiring for the handlers: clients from the environment, then the stage that does the work.

Handlers stay thin: they decorate, call one function here and return its result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from blogpub.config import Deployment
from blogpub.errors import StreamBatchError, TransientError
from blogpub.events import StreamChange, TableChange, s3_changes, stream_changes
from blogpub.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from blogpub.indexes import IndexBuilder
    from blogpub.publish import Publisher
    from blogpub.rebuild import RebuildCommand
    from blogpub.settings import Settings
    from blogpub.site import SiteBucket
    from blogpub.table import PostTable

_CLIENT_CONFIG: dict[str, Any] = {
    # Throttling and 5xx are retried by botocore with backoff before we ever see them.
    "retries": {"mode": "standard", "max_attempts": 8},
    # Every request is built by this package, typed by the boto3 stubs under mypy --strict,
    # and validated again by the service: botocore's client-side pass walked every item of a
    # publish's transaction, 7 % of the functions' CPU in a bulk import (bench/README.md).
    "parameter_validation": False,
}
# botocore asks S3 for "100 Continue" before every PutObject body: a round trip before the
# body leaves, for pages of a few kilobytes. AWS's Go and Kotlin SDKs send the header only
# from 2 MB up (ContinueHeaderThresholdBytes); the functions' S3 client does the same.
EXPECT_CONTINUE_FROM_BYTES = 2 * 1024 * 1024


def _expect_continue_for_large_bodies(params: dict[str, Any], **_: Any) -> None:
    """A ``before-call.s3`` handler run after botocore's ``add_expect_header``: the header
    stays only on bodies of ``EXPECT_CONTINUE_FROM_BYTES`` or more (or of unknown length)."""
    if params["headers"].get("Expect") != "100-continue":
        return
    from botocore.utils import determine_content_length

    length = determine_content_length(params.get("body"))
    if length is not None and length < EXPECT_CONTINUE_FROM_BYTES:
        del params["headers"]["Expect"]


@dataclass
class Runtime:
    """AWS clients and resource names, made once per Lambda execution environment."""

    deployment: Deployment

    @cached_property
    def _session(self) -> Any:
        # botocore's own session: the clients need none of boto3, whose import (s3transfer,
        # resources) costs a cold start about 12 CPU ms more (bench/README.md, section 3b).
        import botocore.session

        return botocore.session.get_session()

    def _client(self, service: str) -> Any:
        from botocore.config import Config

        return self._session.create_client(service, config=Config(**_CLIENT_CONFIG))

    @cached_property
    def s3(self) -> S3Client:
        client: S3Client = self._client("s3")
        client.meta.events.register_last("before-call.s3", _expect_continue_for_large_bodies)
        return client

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self._client("dynamodb")
        return client

    @cached_property
    def cloudfront(self) -> CloudFrontClient:
        client: CloudFrontClient = self._client("cloudfront")
        return client

    @cached_property
    def sqs(self) -> SQSClient:
        client: SQSClient = self._client("sqs")
        return client

    def table(self) -> PostTable:
        from blogpub.table import PostTable

        return PostTable(self.dynamodb, self.deployment.table_name)

    def site(self) -> SiteBucket:
        from blogpub.render import theme_assets
        from blogpub.site import SiteBucket

        return SiteBucket(
            self.s3,
            self.deployment.site_bucket,
            index_ttl_seconds=self.deployment.index_page_ttl_seconds,
            assets=theme_assets(),
        )

    def index_renderer(self, settings: Settings) -> IndexBuilder:
        """An index builder for reading renders of the table (verify); it never invalidates."""
        from blogpub.indexes import IndexBuilder
        from blogpub.render import Renderer

        return IndexBuilder(self.table(), self.site(), settings, Renderer(settings))

    def settings(self) -> Settings:
        from blogpub.settings import load_site_settings

        return load_site_settings(
            self.s3, self.deployment.source_bucket, self.deployment.config_key
        )

    def publisher(self, settings: Settings) -> Publisher:
        from blogpub.publish import Publisher
        from blogpub.render import Renderer
        from blogpub.table import PostTable

        return Publisher(
            s3=self.s3,
            table=PostTable(self.dynamodb, self.deployment.table_name),
            site=self.site(),
            deployment=self.deployment,
            settings=settings,
            renderer=Renderer(settings),
        )


_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The process-wide runtime; rebuilt when the environment names other resources."""
    global _runtime  # noqa: PLW0603 - one per execution environment, like the clients in it
    deployment = Deployment.from_env()
    if _runtime is None or _runtime.deployment != deployment:
        _runtime = Runtime(deployment)
    return _runtime


def render_post_event(event: dict[str, Any]) -> dict[str, Any]:
    """RenderPostFunction: every S3 change in the event, each published or rejected.

    A RebuildQueue batch is taken message by message: a message that fails is reported in
    ``batchItemFailures`` and returns to the queue alone, the others are deleted.
    """
    rt = runtime()
    publisher = rt.publisher(rt.settings())
    if is_queue_batch(event):
        return render_queue_batch(rt, publisher, event)
    results = publish_changes(publisher, event)
    settings_changes = [r for r in results if r["outcome"] == "settings"]
    return {"results": results, "rebuild": run_rebuild(rt, [], settings_changes)}


def is_queue_batch(event: Mapping[str, Any]) -> bool:
    """Whether Lambda's SQS event source mapping made this event (RebuildQueue)."""
    records = event.get("Records")
    return isinstance(records, list) and any(
        isinstance(record, dict) and record.get("eventSource") == "aws:sqs" for record in records
    )


def publish_changes(publisher: Publisher, event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Publish every S3 change in ``event``; if any failed, raise after trying them all."""
    from aws_lambda_powertools.metrics import MetricUnit

    results: list[dict[str, Any]] = []
    failures: list[BaseException] = []
    for change in s3_changes(event):
        logger.set_correlation_id(change.correlation_id)
        try:
            result = publisher.publish(change)
        except Exception as error:  # reported below, then re-raised for a retry
            logger.exception("publish failed; the event will be retried", key=change.key)
            metrics.add_metric(name="Failed", unit=MetricUnit.Count, value=1)
            failures.append(error)
            continue
        metrics.add_metric(name=result.outcome.capitalize(), unit=MetricUnit.Count, value=1)
        if result.pages_written:
            metrics.add_metric(
                name="PagesWritten", unit=MetricUnit.Count, value=len(result.pages_written)
            )
        log = logger.warning if result.outcome in ("rejected", "stale") else logger.info
        log(f"post {result.outcome}", **result.as_dict())
        results.append(result.as_dict())
    if failures:
        raise TransientError(f"{len(failures)} change(s) failed: {failures[0]!r}") from failures[0]
    return results


def render_queue_batch(rt: Runtime, publisher: Publisher, event: dict[str, Any]) -> dict[str, Any]:
    """Each SQS message on its own (Powertools' BatchProcessor): forced S3 events or commands.

    When every message fails the invocation raises, so the Errors alarm sees it.
    """
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    from blogpub.rebuild import split_rebuild_commands

    results: list[dict[str, Any]] = []
    rebuilds: list[dict[str, Any]] = []

    def handle_message(record: SQSRecord) -> None:
        try:
            changes, commands = split_rebuild_commands({"Records": [record.raw_event]})
            published = publish_changes(publisher, changes)
            settings_changes = [r for r in published if r["outcome"] == "settings"]
            rebuilds.extend(run_rebuild(rt, commands, settings_changes))
        except Exception:
            logger.exception("message failed; it alone returns", message_id=record.message_id)
            metrics.add_metric(name="FailedMessages", unit=MetricUnit.Count, value=1)
            raise
        results.extend(published)

    answer = process_partial_response(
        event=event, record_handler=handle_message, processor=BatchProcessor(EventType.SQS)
    )
    return {"results": results, "rebuild": rebuilds, **answer}


def run_rebuild(
    rt: Runtime, commands: list[RebuildCommand], settings_changes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """RebuildQueue commands, and a whole-site rebuild after a _config.yml change."""
    if not commands and not settings_changes:
        return []  # a post's event: the rebuild modules stay unloaded
    from aws_lambda_powertools.metrics import MetricUnit

    from blogpub.rebuild import Rebuilder, start_rebuild

    done: list[dict[str, Any]] = []
    for change in settings_changes:
        rebuild_id = f"settings-{change['version_id'] or 'removed'}"
        done.append(start_rebuild(rt.sqs, rt.deployment.rebuild_queue_url, rebuild_id))
        logger.info("site settings changed: whole-site rebuild started", rebuild_id=rebuild_id)
    if commands:
        rebuilder = Rebuilder(rt.s3, rt.sqs, rt.table(), rt.deployment)
        for command in commands:
            logger.set_correlation_id(f"rebuild-{command.rebuild_id}")
            report = rebuilder.run(command)
            metrics.add_metric(name="RebuildSteps", unit=MetricUnit.Count, value=1)
            logger.info("rebuild step done", **report)
            done.append(report)
    return done


def build_indexes_event(event: dict[str, Any]) -> dict[str, Any]:
    """BuildIndexesFunction: one stream batch -> changed index pages + one invalidation.

    A record is read on its own (decoded, mapped to the pages it touches); one that cannot
    be read is reported, first failure only, and Lambda resumes the shard from it; a batch
    of which no record can be read raises. The pages are rendered from the table for the
    batch as a whole, so a failure there raises and the whole batch is retried (and bisected).
    """
    from aws_lambda_powertools.metrics import MetricUnit

    from blogpub.cdn import Invalidator
    from blogpub.indexes import BuildReport, IndexBuilder
    from blogpub.render import Renderer
    from blogpub.table import PostTable

    records = event.get("Records") or []
    if records:
        logger.set_correlation_id(str(records[0]["dynamodb"]["SequenceNumber"]))
    # Counted before the build, so a batch that fails (and is retried) still reports it.
    metrics.add_metric(name="StreamRecords", unit=MetricUnit.Count, value=len(records))
    changes, typed, unreadable = read_stream_records(records)
    # Lambda resumes at the lowest reported sequence number; report just that one.
    first_failure = [{"itemIdentifier": unreadable[0]}] if unreadable else []
    if not typed:
        # Nothing a page shows (the builder's own page states, activity records): no reads.
        logger.info("no index page reached", records=len(changes), failed=first_failure)
        return {"batchItemFailures": first_failure, **BuildReport().as_dict()}
    rt = runtime()
    settings = rt.settings()
    invalidator = (
        Invalidator(
            DeferredClient(lambda: rt.cloudfront),  # type: ignore[arg-type]
            rt.deployment.distribution_id,
            wildcard_threshold=rt.deployment.invalidation_wildcard_threshold,
        )
        if rt.deployment.distribution_id
        else None
    )
    table = PostTable(rt.dynamodb, rt.deployment.table_name)

    def rerender_posts(source_keys: Sequence[str], rebuild_id: str) -> int:
        # The SQS client (and the rebuild module) only when a batch has posts to re-render.
        from blogpub.rebuild import Rebuilder

        return Rebuilder(rt.s3, rt.sqs, table, rt.deployment).rerender_posts(
            source_keys, rebuild_id
        )

    builder = IndexBuilder(
        table=table,
        site=rt.site(),
        settings=settings,
        renderer=Renderer(settings),
        invalidator=invalidator,
        rerender_posts=rerender_posts,
    )
    report = builder.build(changes, typed)
    metrics.add_metric(name="PagesWritten", unit=MetricUnit.Count, value=len(report.pages_written))
    paths = len(report.invalidation["paths"]) if report.invalidation else 0  # type: ignore[arg-type]
    metrics.add_metric(name="InvalidationPaths", unit=MetricUnit.Count, value=paths)
    logger.info("indexes built", records=len(changes), failed=first_failure, **report.as_dict())
    return {"batchItemFailures": first_failure, **report.as_dict()}


def read_stream_records(
    records: Sequence[Mapping[str, Any]],
) -> tuple[list[StreamChange], list[TableChange], list[str]]:
    """Each stream record decoded once and checked on its own: the readable changes, what
    they mean to index pages (``table_changes``, in order), and the sequence numbers of the
    records that could not be read (each logged).

    Raises ``StreamBatchError`` when no record of the batch can be read, so the invocation
    fails the way Powertools' batch processor made it fail.
    """
    from blogpub.indexes import affected_pages
    from blogpub.table import table_changes

    changes: list[StreamChange] = []
    typed: list[TableChange] = []
    unreadable: list[str] = []
    for record in records:
        try:
            (change,) = stream_changes({"Records": [record]})
            meaning = table_changes(change)
            affected_pages(meaning)
        except Exception:  # reported below; Lambda resumes the shard from the first one
            sequence_number = str(record.get("dynamodb", {}).get("SequenceNumber"))
            logger.exception("stream record unreadable", sequence_number=sequence_number)
            unreadable.append(sequence_number)
            continue
        changes.append(change)
        typed += meaning
    if records and not changes:
        raise StreamBatchError(f"All records failed processing: {len(unreadable)} unreadable")
    return changes, typed, unreadable


class DeferredClient:
    """An SDK client made on its first use: a batch that invalidates nothing makes none."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make

    def __getattr__(self, name: str) -> Any:
        return getattr(self._make(), name)
