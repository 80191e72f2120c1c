"""GET a school's alert status, or every school's for a district admin: computed at request time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from sis_imports.alerts import evaluate
from sis_imports.api.access import Principal, require_district_admin, require_school
from sis_imports.api.services import services
from sis_imports.schools import SchoolCalendar, SchoolState, effective_calendar, parse_time
from sis_imports.timestamps import from_epoch_millis

router = Router()


def request_time() -> datetime:
    # HTTP API payload 2.0 stamps each request; the request's own time is "now".
    return from_epoch_millis(int(router.current_event.raw_event["requestContext"]["timeEpoch"]))


def status_of(
    state: SchoolState | None,
    district_id: str,
    school_id: str,
    calendar: SchoolCalendar | None,
    now: datetime,
) -> dict[str, Any]:
    return evaluate(
        now,
        district_id=district_id,
        school_id=school_id,
        last_succeeded_at=parse_time(state.last_succeeded_at) if state else None,
        last_upload_status=state.last_upload_status if state else None,
        calendar=calendar,
    ).as_dict()


@router.get(
    "/districts/<district_id>/schools/<school_id>/alert", summary="A school's alert status", tags=["alerts"]
)
def school_alert(district_id: str, school_id: str) -> dict[str, Any]:
    require_school(Principal.from_event(router.current_event.raw_event), district_id, school_id)
    state, district = services().schools.get(district_id, school_id)
    return status_of(state, district_id, school_id, effective_calendar(state, district), request_time())


@router.get("/districts/<district_id>/alerts", summary="Every school's alert status", tags=["alerts"])
def district_alerts(district_id: str) -> dict[str, Any]:
    require_district_admin(Principal.from_event(router.current_event.raw_event), district_id)
    schools = services().schools
    district = schools.district(district_id)
    now = request_time()
    items = [
        status_of(state, district_id, state.school_id, effective_calendar(state, district), now)
        for state in schools.in_district(district_id)
    ]
    return {"items": items}
