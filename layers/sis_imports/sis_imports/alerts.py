"""Whether a school's newest import is too old: the one function the API and the checker share.

The rules (issue #3), in the school's time zone:
- age is now minus the arrival time of the newest *succeeded* import;
- stale when age exceeds threshold_days during the school year; weekends count;
- suppressed in the summer (after last_day, before first_day) and during a break;
- no alert on the first school day after a break (or on the first day of the year);
- with no calendar the plain three-day rule applies, and the reason says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sis_imports.calendar import DEFAULT_THRESHOLD_DAYS, SchoolCalendar

OK = "ok"
STALE = "stale"
SUPPRESSED = "suppressed"
NEVER_IMPORTED = "never_imported"


@dataclass(frozen=True)
class AlertStatus:
    district_id: str
    school_id: str
    status: str
    last_import_at: str | None
    age_days: float | None
    threshold_days: int
    last_upload_status: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    now: datetime,
    *,
    district_id: str,
    school_id: str,
    last_succeeded_at: datetime | None,
    last_upload_status: str | None,
    calendar: SchoolCalendar | None,
) -> AlertStatus:
    threshold = calendar.threshold_days if calendar else DEFAULT_THRESHOLD_DAYS
    # Never negative: an upload stamped a moment ahead of this clock is simply new.
    age = max(0.0, (now - last_succeeded_at).total_seconds() / 86400) if last_succeeded_at else None
    is_stale = age is None or age > threshold

    def status(value: str, reason: str) -> AlertStatus:
        return AlertStatus(
            district_id,
            school_id,
            value,
            last_succeeded_at.astimezone(UTC).isoformat() if last_succeeded_at else None,
            round(age, 3) if age is not None else None,
            threshold,
            last_upload_status,
            reason,
        )

    quiet_reason = _quiet_day(now, calendar) if calendar else None
    if quiet_reason and (calendar is None or not _first_day_back(quiet_reason) or is_stale):
        return status(SUPPRESSED, quiet_reason)
    if age is None:
        return status(NEVER_IMPORTED, "no import has succeeded yet" + _no_calendar(calendar))
    if is_stale:
        return status(
            STALE,
            f"the newest successful import is {age:.1f} days old, more than {threshold}; "
            "contact the school's Sloopy installer" + _no_calendar(calendar),
        )
    return status(OK, f"the newest successful import is {age:.1f} days old" + _no_calendar(calendar))


_FIRST_DAY_BACK = "first school day back"


def _first_day_back(reason: str) -> bool:
    return reason.startswith(_FIRST_DAY_BACK)


def _quiet_day(now: datetime, calendar: SchoolCalendar) -> str | None:
    """Why no alert is due today, or None on an ordinary school day."""
    today = calendar.local_date(now)
    if today > calendar.last_day:
        return f"summer: the {calendar.school_year} school year ended on {calendar.last_day.isoformat()}"
    if today < calendar.first_day:
        return f"summer: the {calendar.school_year} school year starts on {calendar.first_day.isoformat()}"
    if today == calendar.first_day:
        return f"{_FIRST_DAY_BACK}: the first day of the {calendar.school_year} school year"
    current = calendar.break_on(today)
    if current:
        return f"{current.name} ({current.start.isoformat()} to {current.end.isoformat()})"
    previous = calendar.break_on(today - timedelta(days=1))
    if previous:
        return f"{_FIRST_DAY_BACK} after {previous.name}"
    return None


def _no_calendar(calendar: SchoolCalendar | None) -> str:
    return "" if calendar else f"; no calendar is set, so the plain {DEFAULT_THRESHOLD_DAYS}-day rule applies"
