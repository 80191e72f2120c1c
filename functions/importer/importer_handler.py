"""S3 ObjectCreated -> import. Thin: parse the event, call the domain, report."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext
from sis_imports.config import settings
from sis_imports.importer import Importer, Upload
from sis_imports.observability import logger, metrics, tracer
from sis_imports.timestamps import parse_event_time

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
    results = []
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
        for result in importer().run(upload):
            results.append(
                {
                    "school_id": result.school_id,
                    "import_id": result.import_id,
                    "status": result.status,
                    "duplicate": result.duplicate,
                }
            )
    return {"imports": results}
