"""S3 ObjectCreated -> import; SQS work item -> one school of a district bundle, or an administrator's
approve or rollback handed over by the API. Thin: parse, call, report.

A batch of one SQS message per invocation (template.yaml): a failure raises, and SQS retries it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event, SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from sis_imports.config import settings
from sis_imports.decisions import Decisions
from sis_imports.importer import Importer, SchoolResult, Upload
from sis_imports.lease import SchoolBusy
from sis_imports.observability import logger, metrics, tracer
from sis_imports.timestamps import parse_event_time

BUSY_RETRY_SECONDS = 300
_importer: Importer | None = None


def importer() -> Importer:
    """Built on first use, so no boto3 client exists at import time."""
    global _importer  # noqa: PLW0603 - one importer per warm container
    if _importer is None:
        _importer = Importer(settings())
    return _importer


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:sqs":
        done = []
        for message in SQSEvent(event).records:
            try:
                done.append(_result(_work(json.loads(message.body))))
            except SchoolBusy:
                # Another import holds the school: try again in minutes, not after the queue's 90.
                importer().retry_work_later(message.receipt_handle, BUSY_RETRY_SECONDS)
                raise
        return {"imports": done}
    results: list[dict[str, Any]] = []
    for record in S3Event(event).records:
        obj = record.s3.get_object
        upload = Upload(
            bucket=record.s3.bucket.name,
            # S3 URL-encodes keys in events, with '+' for a space.
            key=unquote_plus(obj.key),
            version_id=obj.version_id,
            etag=obj.etag or "",
            size=int(obj.size or 0),
            created_at=parse_event_time(record.event_time),
        )
        results.extend(_result(result) for result in importer().run(upload))
    return {"imports": results}


def _work(item: dict[str, Any]) -> SchoolResult:
    if "decision" in item:
        return Decisions(importer()).carry_out(item)
    return importer().run_school_part(item)


def _result(result: SchoolResult) -> dict[str, Any]:
    return {
        "school_id": result.school_id,
        "import_id": result.import_id,
        "status": result.status,
        "duplicate": result.duplicate,
    }
