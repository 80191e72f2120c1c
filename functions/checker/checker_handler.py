"""EventBridge schedule -> check every school's alert. "Now" is the event's own time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from sis_imports.checker import Checker
from sis_imports.config import settings
from sis_imports.observability import MetricUnit, logger, metrics, tracer
from sis_imports.timestamps import parse_event_time


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = parse_event_time(EventBridgeEvent(event).time)
    summary = Checker(settings()).run(now)
    metrics.add_metric(name="StaleSchools", unit=MetricUnit.Count, value=summary.stale)
    metrics.add_metric(name="SchoolsChecked", unit=MetricUnit.Count, value=summary.schools)
    return summary.as_dict()
