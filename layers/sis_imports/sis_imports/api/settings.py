"""PUT a school's or a district's import settings: the hold threshold and the Sloopy data prefix."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field

from sis_imports.api.access import Principal, require_district_admin, require_school
from sis_imports.api.services import services

router = Router()


class ImportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hold_threshold_percent: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="Hold an import that drops or adds more than this share of active students, "
        "enrollments or sections (default 10).",
    )
    sloopy_data_prefix: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="When set, every Sloopy row starts with this school prefix column.",
    )


@router.put(
    "/districts/<district_id>/schools/<school_id>/settings",
    summary="Set a school's import settings",
    tags=["settings"],
)
def put_school_settings(district_id: str, school_id: str, settings: ImportSettings) -> dict[str, Any]:
    require_school(Principal.from_event(router.current_event.raw_event), district_id, school_id)
    values = settings.model_dump(exclude_none=True)
    services().schools.set_settings(district_id, school_id, values)
    return values


@router.put(
    "/districts/<district_id>/settings",
    summary="Set the district's default import settings",
    tags=["settings"],
)
def put_district_settings(district_id: str, settings: ImportSettings) -> dict[str, Any]:
    require_district_admin(Principal.from_event(router.current_event.raw_event), district_id)
    values = settings.model_dump(exclude_none=True, exclude={"sloopy_data_prefix"})
    services().schools.set_settings(district_id, None, values)
    return values
