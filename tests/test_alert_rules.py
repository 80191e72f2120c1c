"""The alert rules at their boundaries: thresholds, summer, breaks, the first day back, time zones, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sis_imports.alerts import NEVER_IMPORTED, OK, STALE, SUPPRESSED, evaluate
from sis_imports.calendar import SchoolCalendar

LA = ZoneInfo("America/Los_Angeles")
CALENDAR = SchoolCalendar(
    school_year="2026-2027",
    first_day=date(2026, 8, 20),
    last_day=date(2027, 6, 10),
    timezone="America/Los_Angeles",
    breaks=[{"name": "Winter break", "start": date(2026, 12, 21), "end": date(2027, 1, 1)}],
)


def status(now: datetime, last: datetime | None, calendar: SchoolCalendar | None = CALENDAR) -> str:
    return evaluate(
        now,
        district_id="d1",
        school_id="CTS",
        last_succeeded_at=last,
        last_upload_status=None,
        calendar=calendar,
    ).status


def at(y: int, m: int, d: int, h: int = 12, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=LA)


def test_age_exactly_at_the_threshold_is_ok_and_a_minute_past_is_stale():
    last = at(2026, 10, 5, 9)
    assert status(last + timedelta(days=3), last) == OK
    assert status(last + timedelta(days=3, minutes=1), last) == STALE


def test_an_import_stamped_ahead_of_the_clock_is_zero_days_old_not_negative():
    last = at(2026, 10, 5, 9)
    found = evaluate(
        last - timedelta(minutes=5),
        district_id="d1",
        school_id="CTS",
        last_succeeded_at=last,
        last_upload_status=None,
        calendar=CALENDAR,
    )
    assert found.status == OK and found.age_days == 0.0


def test_weekends_count_like_any_other_day():
    friday = at(2026, 10, 9, 9)
    assert status(at(2026, 10, 12, 9, 1), friday) == STALE  # Monday, 3 days + 1 minute later


def test_summer_is_suppressed_on_both_sides_of_the_year():
    last = at(2026, 6, 1)
    assert status(at(2027, 6, 10, 23, 59), at(2027, 6, 1)) == STALE  # last_day itself is a school day
    assert status(at(2027, 6, 11, 0, 1), at(2027, 6, 1)) == SUPPRESSED
    assert status(at(2026, 8, 19, 23, 59), last) == SUPPRESSED
    result = evaluate(
        at(2027, 7, 15),
        district_id="d1",
        school_id="CTS",
        last_succeeded_at=at(2027, 6, 1),
        last_upload_status="blocked",
        calendar=CALENDAR,
    )
    assert "summer" in result.reason and result.last_upload_status == "blocked"


def test_first_day_of_the_year_has_no_alert_and_the_second_day_does():
    last = at(2026, 6, 1)
    assert status(at(2026, 8, 20, 8), last) == SUPPRESSED
    assert status(at(2026, 8, 21, 8), last) == STALE


def test_break_days_are_suppressed_inclusive():
    last = at(2026, 12, 15)
    assert status(at(2026, 12, 21, 0, 5), last) == SUPPRESSED
    assert status(at(2027, 1, 1, 23, 55), last) == SUPPRESSED


def test_first_day_after_a_break_has_no_alert_and_the_second_does():
    last = at(2026, 12, 18)
    first_back = evaluate(
        at(2027, 1, 2, 10),
        district_id="d1",
        school_id="CTS",
        last_succeeded_at=last,
        last_upload_status=None,
        calendar=CALENDAR,
    )
    assert first_back.status == SUPPRESSED and "Winter break" in first_back.reason
    assert status(at(2027, 1, 3, 0, 1), last) == STALE


def test_first_day_back_with_a_fresh_import_is_simply_ok():
    assert status(at(2027, 1, 2, 10), at(2027, 1, 2, 2)) == OK


def test_days_are_the_schools_days_not_utc_days():
    # 2027-06-11 03:00 UTC is still 2027-06-10 (the last day) in Los Angeles.
    assert status(datetime(2027, 6, 11, 3, 0, tzinfo=UTC), at(2027, 6, 1)) == STALE
    assert status(datetime(2027, 6, 11, 8, 0, tzinfo=UTC), at(2027, 6, 1)) == SUPPRESSED


def test_dst_change_does_not_shift_the_age():
    # Clocks go back on 2026-11-01 in Los Angeles: 3 days is still 72 real hours.
    last = at(2026, 10, 31, 12)
    assert status(last + timedelta(hours=72), last) == OK
    assert status(last + timedelta(hours=72, minutes=1), last) == STALE


def test_no_calendar_follows_the_plain_rule_and_says_so():
    last = datetime(2026, 7, 4, tzinfo=UTC)
    result = evaluate(
        last + timedelta(days=4),
        district_id="d1",
        school_id="CTS",
        last_succeeded_at=last,
        last_upload_status=None,
        calendar=None,
    )
    assert result.status == STALE and "no calendar" in result.reason


def test_never_imported():
    assert status(at(2026, 10, 1), None) == NEVER_IMPORTED


def test_threshold_is_configurable():
    calendar = CALENDAR.model_copy(update={"threshold_days": 5})
    last = at(2026, 10, 5)
    assert status(last + timedelta(days=4), last, calendar) == OK
    assert status(last + timedelta(days=5, minutes=1), last, calendar) == STALE


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"last_day": "2026-08-01"}, "last_day"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"school_year": "2026-2028"}, "school_year"),
        (
            {
                "breaks": [
                    {"name": "A", "start": "2026-11-01", "end": "2026-11-10"},
                    {"name": "B", "start": "2026-11-10", "end": "2026-11-12"},
                ]
            },
            "breaks",
        ),
        ({"breaks": [{"name": "A", "start": "2027-07-01", "end": "2027-07-10"}]}, "breaks"),
        ({"threshold_days": 0}, "threshold_days"),
    ],
)
def test_invalid_calendars_name_the_field(change, field):
    data = {**CALENDAR.model_dump(mode="json"), **change}
    with pytest.raises(ValidationError) as raised:
        SchoolCalendar.model_validate(data)
    assert raised.value.errors()[0]["loc"][0] == field
