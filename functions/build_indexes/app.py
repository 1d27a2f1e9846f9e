"""BuildIndexesFunction: table stream batches -> index pages and one invalidation per batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blogpub import coldstart  # first: it pauses the garbage collector for the cold start
from blogpub.observability import logger, metrics, tracer
from blogpub.service import build_indexes_event

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@coldstart.ends_cold_start
@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return build_indexes_event(event)
