"""BuildIndexesFunction: table stream batches -> index pages and one invalidation per batch."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from blogpub.observability import logger, metrics, tracer
from blogpub.service import build_indexes_event


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return build_indexes_event(event)
