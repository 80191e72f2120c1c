"""GET and PUT school calendars and the district default; a later school year rolls a school over."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from sis_imports.api.access import Principal, require_district_admin, require_district_member, require_school
from sis_imports.api.services import services
from sis_imports.calendar import SchoolCalendar
from sis_imports.schools import SchoolState, effective_calendar

router = Router()


@router.get(
    "/districts/<district_id>/schools/<school_id>/calendar", summary="A school's calendar", tags=["calendar"]
)
def get_school_calendar(district_id: str, school_id: str) -> dict[str, Any]:
    require_school(Principal.from_event(router.current_event.raw_event), district_id, school_id)
    state, district = services().schools.get(district_id, school_id)
    calendar = effective_calendar(state, district)
    if calendar is None:
        raise NotFoundError("no calendar is set for this school or its district")
    inherited = not (state and state.calendar)
    return {**calendar.model_dump(mode="json"), "inherited_from_district": inherited}


@router.put(
    "/districts/<district_id>/schools/<school_id>/calendar",
    summary="Set a school's calendar",
    tags=["calendar"],
)
def put_school_calendar(district_id: str, school_id: str, calendar: SchoolCalendar) -> dict[str, Any]:
    require_school(Principal.from_event(router.current_event.raw_event), district_id, school_id)
    schools = services().schools
    state, _ = schools.get(district_id, school_id)
    schools.set_calendar(district_id, school_id, calendar)
    schools.roll_over_if_new_year(state or SchoolState(district_id, school_id), calendar)
    return {**calendar.model_dump(mode="json"), "inherited_from_district": False}


@router.get("/districts/<district_id>/calendar", summary="The district's default calendar", tags=["calendar"])
def get_district_calendar(district_id: str) -> dict[str, Any]:
    require_district_member(Principal.from_event(router.current_event.raw_event), district_id)
    calendar = (services().schools.district(district_id) or {}).get("calendar")
    if calendar is None:
        raise NotFoundError("no district calendar is set")
    return calendar


@router.put(
    "/districts/<district_id>/calendar", summary="Set the district's default calendar", tags=["calendar"]
)
def put_district_calendar(district_id: str, calendar: SchoolCalendar) -> dict[str, Any]:
    require_district_admin(Principal.from_event(router.current_event.raw_event), district_id)
    schools = services().schools
    schools.set_calendar(district_id, None, calendar)
    # Schools without a calendar of their own inherit this one; a later year rolls them over now.
    for state in schools.in_district(district_id):
        if not state.calendar:
            schools.roll_over_if_new_year(state, calendar)
    return calendar.model_dump(mode="json")
