"""POST approve, discard or rollback on one import. Each is recorded on the record: who, when, what."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from sis_imports.api.access import Principal, require_school
from sis_imports.api.services import services
from sis_imports.records import IMPORT_ID, RecordNotFound

router = Router()
BASE = "/districts/<district_id>/schools/<school_id>/imports/<import_id>"


def _decide(district_id: str, school_id: str, import_id: str) -> tuple[Principal, dict[str, Any]]:
    principal = Principal.from_event(router.current_event.raw_event)
    require_school(principal, district_id, school_id)
    if not IMPORT_ID.match(import_id):
        raise RecordNotFound(f"no import {import_id[:64]} for this school")
    return principal, {"by": principal.subject, "role": principal.role}


@router.post(f"{BASE}/approve", summary="Apply a held import", tags=["decisions"])
def approve(district_id: str, school_id: str, import_id: str) -> dict[str, Any]:
    _, actor = _decide(district_id, school_id, import_id)
    return services().importer.approve(district_id, school_id, import_id, actor)


@router.post(f"{BASE}/discard", summary="Drop a held import; the roster stays as it was", tags=["decisions"])
def discard(district_id: str, school_id: str, import_id: str) -> dict[str, Any]:
    _, actor = _decide(district_id, school_id, import_id)
    return services().importer.discard(district_id, school_id, import_id, actor)


@router.post(
    f"{BASE}/rollback",
    summary="Restore the roster to before this, the latest applied import",
    tags=["decisions"],
)
def rollback(district_id: str, school_id: str, import_id: str) -> dict[str, Any]:
    _, actor = _decide(district_id, school_id, import_id)
    return services().importer.rollback(district_id, school_id, import_id, actor)
