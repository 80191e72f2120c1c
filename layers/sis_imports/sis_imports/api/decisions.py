"""POST approve, discard or rollback on one import. Each is recorded on the record: who, when, what.

A large approve or rollback is handed to the importer: the answer is then 202 and the record shows
`processing` until it is done (sis_imports/decisions.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from sis_imports.api.access import Principal, require_school
from sis_imports.api.services import services
from sis_imports.records import IMPORT_ID, RecordNotFound

if TYPE_CHECKING:
    from sis_imports.decisions import Outcome

router = Router()
BASE = "/districts/<district_id>/schools/<school_id>/imports/<import_id>"


def _decide(district_id: str, school_id: str, import_id: str) -> tuple[Principal, dict[str, Any]]:
    principal = Principal.from_event(router.current_event.raw_event)
    require_school(principal, district_id, school_id)
    if not IMPORT_ID.match(import_id):
        raise RecordNotFound(f"no import {import_id[:64]} for this school")
    return principal, {"by": principal.subject, "role": principal.role}


def _answer(outcome: Outcome) -> Response[dict[str, Any]]:
    """200 with the record when done; 202 when handed to the importer (the record is `processing`)."""
    return Response(202 if outcome.queued else 200, content_types.APPLICATION_JSON, outcome.record)


@router.post(f"{BASE}/approve", summary="Apply a held import", tags=["decisions"])
def approve(district_id: str, school_id: str, import_id: str) -> Response[dict[str, Any]]:
    _, actor = _decide(district_id, school_id, import_id)
    return _answer(services().decisions.approve(district_id, school_id, import_id, actor))


@router.post(f"{BASE}/discard", summary="Drop a held import; the roster stays as it was", tags=["decisions"])
def discard(district_id: str, school_id: str, import_id: str) -> Response[dict[str, Any]]:
    _, actor = _decide(district_id, school_id, import_id)
    return _answer(services().decisions.discard(district_id, school_id, import_id, actor))


@router.post(
    f"{BASE}/rollback",
    summary="Restore the roster to before this, the latest applied import",
    tags=["decisions"],
)
def rollback(district_id: str, school_id: str, import_id: str) -> Response[dict[str, Any]]:
    _, actor = _decide(district_id, school_id, import_id)
    return _answer(services().decisions.rollback(district_id, school_id, import_id, actor))
