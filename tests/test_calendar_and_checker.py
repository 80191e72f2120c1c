"""Issue #3 end to end: calendar API, the checker's notifications, year-end blocking and rollover."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sis_imports.local.events import claims_for
from sis_imports.synthetic import generate_school, next_day, write_sloopy

LA = ZoneInfo("America/Los_Angeles")
ADMIN = claims_for("school_admin", "d1", ["CTS"])
CALENDAR = {
    "school_year": "2026-2027",
    "first_day": "2026-08-20",
    "last_day": "2027-06-10",
    "timezone": "America/Los_Angeles",
    "breaks": [{"name": "Winter break", "start": "2026-12-21", "end": "2027-01-01"}],
}
DAY0 = datetime(2026, 10, 5, 2, 30, tzinfo=LA)


def la(y, m, d, h=12):
    return datetime(y, m, d, h, tzinfo=LA)


@pytest.fixture
def inbox(cloud):
    """An SQS queue subscribed to the alert topic: every notification lands here."""
    sqs, sns = cloud.client("sqs"), cloud.client("sns")
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=cloud.stack.refs["AlertTopic"], Protocol="sqs", Endpoint=arn)

    def read() -> list[dict]:
        messages = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    return read


def put_calendar(cloud, calendar, claims=ADMIN, at=DAY0, path="/districts/d1/schools/CTS/calendar"):
    response = cloud.api("PUT", path, claims, at, body=calendar)
    return response["statusCode"], json.loads(response["body"])


def alert(cloud, at):
    response = cloud.api("GET", "/districts/d1/schools/CTS/alert", ADMIN, at)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def latest_record(cloud):
    response = cloud.api(
        "GET", "/districts/d1/schools/CTS/imports", ADMIN, DAY0 + timedelta(days=400), query={"limit": "1"}
    )
    return json.loads(response["body"])["items"][0]


def test_the_staleness_story_from_day_zero_to_the_next_school_year(cloud, inbox, tmp_path: Path):
    school = generate_school("CTS", students=40)
    upload = write_sloopy([school], tmp_path / "day0.zip")
    assert put_calendar(cloud, CALENDAR)[0] == 200

    # 1. Import on day 0, inside the recommended window (2:30am school time).
    cloud.import_file(upload, "uploads/d1/CTS/day0.zip", DAY0)
    record = latest_record(cloud)
    assert record["status"] == "succeeded" and record["in_recommended_window"] is True
    assert record["school_year"] == "2026-2027"

    # 2. Day 2: ok, and nothing sent.
    cloud.check(DAY0 + timedelta(days=2))
    assert alert(cloud, DAY0 + timedelta(days=2))["status"] == "ok"
    assert inbox() == []

    # 3. Day 4: stale, exactly one message naming the school and what to do.
    cloud.check(DAY0 + timedelta(days=4))
    status = alert(cloud, DAY0 + timedelta(days=4))
    assert status["status"] == "stale" and status["age_days"] == pytest.approx(4.0)
    (message,) = inbox()
    assert "CTS" in message["Message"] and "Sloopy installer" in message["Message"]

    # 4. Another check: no second message.
    cloud.check(DAY0 + timedelta(days=4, hours=1))
    assert inbox() == []

    # 5. A new import: ok, and one recovery message.
    cloud.import_file(upload, "uploads/d1/CTS/day5.zip", DAY0 + timedelta(days=5))
    cloud.check(DAY0 + timedelta(days=5, hours=1))
    assert alert(cloud, DAY0 + timedelta(days=5, hours=1))["status"] == "ok"
    (recovery,) = inbox()
    assert "recovered" in recovery["Subject"]

    # 7. Last import before the winter break: first day back no alert, second day stale.
    cloud.import_file(upload, "uploads/d1/CTS/dec.zip", la(2026, 12, 18, 3))
    assert alert(cloud, la(2026, 12, 24))["status"] == "suppressed"
    first_back = alert(cloud, la(2027, 1, 2, 9))
    assert first_back["status"] == "suppressed" and "first school day back" in first_back["reason"]
    assert alert(cloud, la(2027, 1, 3, 9))["status"] == "stale"

    # 6. A day in the summer: suppressed.
    summer = alert(cloud, la(2027, 7, 15))
    assert summer["status"] == "suppressed" and "summer" in summer["reason"]

    # 8. An upload after the last day: blocked, roster unchanged.
    roster_before = cloud.scan("RosterTable")
    changed = next_day(school, new_students=3)
    cloud.import_file(
        write_sloopy([changed], tmp_path / "june.zip"), "uploads/d1/CTS/june.zip", la(2027, 6, 11, 3)
    )
    blocked = latest_record(cloud)
    assert blocked["status"] == "blocked" and "2027-06-10" in blocked["reason"]
    assert cloud.scan("RosterTable") == roster_before
    assert alert(cloud, la(2027, 6, 12))["last_upload_status"] == "blocked"

    # 9. A new school year: counts start fresh, and last year's file is blocked.
    next_year = {
        **CALENDAR,
        "school_year": "2027-2028",
        "first_day": "2027-08-19",
        "last_day": "2028-06-09",
        "breaks": [],
    }
    assert put_calendar(cloud, next_year, at=la(2027, 8, 1))[0] == 200
    cloud.import_file(upload, "uploads/d1/CTS/lastyear.zip", la(2027, 8, 19, 3))
    stale_file = latest_record(cloud)
    assert stale_file["status"] == "blocked" and "last year" in stale_file["reason"]
    cloud.import_file(
        write_sloopy([changed], tmp_path / "new.zip"), "uploads/d1/CTS/new.zip", la(2027, 8, 20, 3)
    )
    fresh = latest_record(cloud)
    assert fresh["status"] == "succeeded" and fresh["school_year"] == "2027-2028"
    assert fresh["counts"]["students"]["new"] == fresh["counts"]["students"]["total"] == len(changed.students)


def test_district_default_calendar_is_inherited_until_a_school_sets_its_own(cloud):
    district_admin = claims_for("district_admin", "d1")
    code, _ = put_calendar(cloud, CALENDAR, claims=district_admin, path="/districts/d1/calendar")
    assert code == 200
    response = cloud.api("GET", "/districts/d1/schools/CTS/calendar", ADMIN, DAY0)
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and body["inherited_from_district"] is True
    assert body["threshold_days"] == 3
    own = {**CALENDAR, "threshold_days": 5}
    assert put_calendar(cloud, own)[0] == 200
    body = json.loads(cloud.api("GET", "/districts/d1/schools/CTS/calendar", ADMIN, DAY0)["body"])
    assert body["threshold_days"] == 5 and body["inherited_from_district"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"last_day": "2026-08-01"}, "last_day"),
        ({"timezone": "Nowhere/Special"}, "timezone"),
        (
            {
                "breaks": [
                    {"name": "A", "start": "2026-11-01", "end": "2026-11-10"},
                    {"name": "B", "start": "2026-11-05", "end": "2026-11-12"},
                ]
            },
            "breaks",
        ),
        ({"breaks": [{"name": "Late", "start": "2027-07-01", "end": "2027-07-04"}]}, "breaks"),
        ({"first_day": "not a date"}, "first_day"),
    ],
)
def test_bad_calendars_get_a_400_naming_the_field(cloud, change, field):
    code, body = put_calendar(cloud, {**CALENDAR, **change})
    assert code == 400
    assert body["field"] == field and body["message"].startswith(field)


def test_bad_calendar_body_that_is_not_json_is_a_400(cloud):
    response = cloud.api("PUT", "/districts/d1/schools/CTS/calendar", ADMIN, DAY0, body="{not json")
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["message"] == "the request body is not valid JSON"


@pytest.mark.parametrize(
    ("method", "path", "claims", "expected"),
    [
        ("PUT", "/districts/d1/schools/CTS/calendar", claims_for("school_admin", "d1", ["OTHER"]), 403),
        ("PUT", "/districts/d1/schools/CTS/calendar", claims_for("district_admin", "d2"), 403),
        ("PUT", "/districts/d1/schools/CTS/calendar", claims_for("teacher", "d1", ["CTS"]), 403),
        ("PUT", "/districts/d1/calendar", claims_for("school_admin", "d1", ["CTS"]), 403),
        ("PUT", "/districts/d1/calendar", claims_for("district_admin", "d2"), 403),
        ("GET", "/districts/d1/schools/CTS/alert", claims_for("sys_admin", "d2", ["CTS"]), 403),
        ("GET", "/districts/d1/alerts", claims_for("school_admin", "d1", ["CTS"]), 403),
        ("GET", "/districts/d1/alerts", claims_for("district_admin", "d2"), 403),
        ("GET", "/districts/d1/alerts", None, 401),
    ],
)
def test_other_tenants_are_refused(cloud, method, path, claims, expected):
    body = CALENDAR if method == "PUT" else None
    response = cloud.api(method, path, claims, DAY0, body=body)
    assert response["statusCode"] == expected


def test_district_alerts_list_every_school(cloud, tmp_path: Path):
    schools = [generate_school(s, students=10, classes_per_student=2) for s in ("AHS", "BMS")]
    cloud.import_file(write_sloopy(schools, tmp_path / "b.zip"), "uploads/d1/b.zip", DAY0)
    response = cloud.api(
        "GET", "/districts/d1/alerts", claims_for("district_admin", "d1"), DAY0 + timedelta(days=1)
    )
    items = json.loads(response["body"])["items"]
    assert sorted((i["school_id"], i["status"]) for i in items) == [("AHS", "ok"), ("BMS", "ok")]


def test_checker_fails_an_import_left_processing_past_the_timeout(cloud, tmp_path: Path):
    from sis_imports.records import ImportRecords
    from sis_imports.schools import Schools

    records = ImportRecords(cloud.client("dynamodb"), cloud.stack.refs["ImportsTable"])
    Schools(cloud.client("dynamodb"), cloud.stack.refs["SchoolsTable"]).update(
        "d1",
        "CTS",
        {
            "last_import_id": "20261005T093000000000Z-0123456789",
            "last_upload_status": "processing",
            "processing_since": DAY0.isoformat(),
            "last_import_at": DAY0.isoformat(),
        },
    )
    records.claim(
        {
            "import_id": "20261005T093000000000Z-0123456789",
            "district_id": "d1",
            "school_id": "CTS",
            "status": "processing",
            "created_at": DAY0.isoformat(),
        }
    )
    cloud.check(DAY0 + timedelta(minutes=10))
    assert records.get("d1", "CTS", "20261005T093000000000Z-0123456789")["status"] == "processing"
    summary = cloud.check(DAY0 + timedelta(minutes=30))
    assert summary["abandoned_failed"] == 1
    record = records.get("d1", "CTS", "20261005T093000000000Z-0123456789")
    assert record["status"] == "failed" and "stopped before it finished" in record["reason"]
