"""The API's resolver: routers, and one place that maps domain errors to HTTP answers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from sis_imports.api import alerts, calendars, decisions, history, page, settings
from sis_imports.api.access import BadPath, Forbidden, Unauthenticated
from sis_imports.lease import SchoolBusy
from sis_imports.model import UploadRejected
from sis_imports.observability import logger
from sis_imports.records import BadCursor, DecisionRefused, RecordNotFound
from sis_imports.undo_log import UndoLogMissing

app = APIGatewayHttpResolver(enable_validation=True)
app.include_router(history.router)
app.include_router(calendars.router)
app.include_router(alerts.router)
app.include_router(decisions.router)
app.include_router(settings.router)
app.include_router(page.router)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(Unauthenticated)
def _unauthenticated(exc: Unauthenticated) -> Response:
    return _json(401, {"message": str(exc)})


@app.exception_handler(Forbidden)
def _forbidden(exc: Forbidden) -> Response:
    return _json(403, {"message": str(exc)})


@app.exception_handler(BadCursor)
@app.exception_handler(BadPath)
def _bad_request(exc: ValueError) -> Response:
    return _json(400, {"message": str(exc)})


@app.exception_handler(NotFoundError)
def _not_found(exc: NotFoundError) -> Response:
    return _json(404, {"message": exc.msg})


@app.exception_handler(RecordNotFound)
def _no_record(exc: RecordNotFound) -> Response:
    return _json(404, {"message": str(exc)})


@app.exception_handler(DecisionRefused)
@app.exception_handler(UndoLogMissing)
@app.exception_handler(SchoolBusy)
def _conflict(exc: Exception) -> Response:
    return _json(409, {"message": str(exc)})


@app.exception_handler(UploadRejected)
def _upload_unusable(exc: UploadRejected) -> Response:
    return _json(409, {"message": f"the held upload can no longer be read: {exc.message}"})


@app.exception_handler(RequestValidationError)
def _invalid(exc: RequestValidationError) -> Response:
    """400 naming the field, e.g. {"message": "last_day: ...", "field": "last_day"}."""
    errors = exc.errors()
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return _json(400, {"message": "the request body is not valid JSON", "field": None, "errors": []})
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(location) or None
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    return _json(
        400,
        {
            "message": f"{field}: {message}" if field else message,
            "field": field,
            "errors": [
                {
                    "field": ".".join(str(p) for p in e.get("loc", ())[1:]),
                    "message": str(e.get("msg", "")).removeprefix("Value error, "),
                }
                for e in errors[:20]
            ],
        },
    )


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    # Never a stack trace in a response; the log has it, with the request's correlation id.
    logger.exception("unhandled error in API")
    return _json(500, {"message": "internal error; it has been logged"})


def openapi_document() -> str:
    return app.get_openapi_json_schema(
        title="sis-imports API",
        version="1.0.0",
        description="Import history, alert status and school calendars.",
    )
