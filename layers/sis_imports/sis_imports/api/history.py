"""GET the import history of a school, newest first, one DynamoDB query per page."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Query

from sis_imports.api.access import Principal, require_school
from sis_imports.api.services import services
from sis_imports.records import IMPORT_ID

router = Router()
MAX_PAGE = 100


@router.get(
    "/districts/<district_id>/schools/<school_id>/imports",
    summary="A school's import history",
    tags=["imports"],
)
def list_imports(
    district_id: str,
    school_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 25,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    require_school(Principal.from_event(router.current_event.raw_event), district_id, school_id)
    items, next_cursor = services().records.page(district_id, school_id, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/districts/<district_id>/schools/<school_id>/imports/<import_id>",
    summary="One import record",
    tags=["imports"],
)
def get_import(district_id: str, school_id: str, import_id: str) -> dict[str, Any]:
    require_school(Principal.from_event(router.current_event.raw_event), district_id, school_id)
    record = services().records.get(district_id, school_id, import_id) if IMPORT_ID.match(import_id) else None
    if record is None:
        raise NotFoundError(f"no import {import_id[:64]} for this school")
    return record
