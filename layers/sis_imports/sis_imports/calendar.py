"""A school's calendar: its year, breaks, time zone and alert threshold.

This is an API edge, so it is a pydantic model; every rule names the field it is about,
which is what the API's 400 reports.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

DEFAULT_THRESHOLD_DAYS = 3
_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


class SchoolBreak(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    start: date
    end: date

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError("a break's end is before its start")
        return end

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class SchoolCalendar(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school_year: str = Field(examples=["2026-2027"])
    first_day: date
    last_day: date
    timezone: str = Field(examples=["America/Los_Angeles"])
    breaks: list[SchoolBreak] = Field(default_factory=list, max_length=60)
    threshold_days: int = Field(default=DEFAULT_THRESHOLD_DAYS, ge=1, le=60)

    @field_validator("school_year")
    @classmethod
    def _valid_school_year(cls, value: str) -> str:
        found = _SCHOOL_YEAR.match(value)
        if not found or int(found.group(2)) != int(found.group(1)) + 1:
            raise ValueError("school_year is two consecutive years, like 2026-2027")
        return value

    @field_validator("first_day")
    @classmethod
    def _first_day_in_year(cls, first_day: date, info: ValidationInfo) -> date:
        year = info.data.get("school_year")
        if year and first_day.year not in (int(year[:4]), int(year[5:])):
            raise ValueError(f"first_day is not in school year {year}")
        return first_day

    @field_validator("last_day")
    @classmethod
    def _last_after_first(cls, last_day: date, info: ValidationInfo) -> date:
        first_day = info.data.get("first_day")
        if first_day is not None and last_day <= first_day:
            raise ValueError("last_day must be after first_day")
        if first_day is not None and last_day - first_day > timedelta(days=366):
            raise ValueError("last_day is more than a year after first_day")
        return last_day

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value[:60]!r}; use an IANA name like America/Chicago"
            ) from exc
        return value

    @field_validator("breaks")
    @classmethod
    def _breaks_fit(cls, breaks: list[SchoolBreak], info: ValidationInfo) -> list[SchoolBreak]:
        first_day, last_day = info.data.get("first_day"), info.data.get("last_day")
        ordered = sorted(breaks, key=lambda b: b.start)
        for earlier, later in pairwise(ordered):
            if later.start <= earlier.end:
                raise ValueError(f"breaks {earlier.name!r} and {later.name!r} overlap")
        for school_break in ordered:
            if (
                first_day
                and last_day
                and not (first_day <= school_break.start and school_break.end <= last_day)
            ):
                raise ValueError(f"break {school_break.name!r} is outside the school year")
        return ordered

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def break_on(self, day: date) -> SchoolBreak | None:
        return next((b for b in self.breaks if b.covers(day)), None)

    def starts_later_than(self, other_year: str | None) -> bool:
        return other_year is None or self.school_year > other_year
