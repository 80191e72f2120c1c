"""The committed events in events/ are what `sam local invoke -e` would use; they must work."""

from __future__ import annotations

import json
from pathlib import Path

from sis_imports.local.lambdas import LambdaContext
from sis_imports.synthetic import generate_school, write_sloopy

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_s3_event_imports_the_object_it_names(cloud, tmp_path: Path):
    event = load("s3-upload.json")
    record = event["Records"][0]["s3"]
    assert record["bucket"]["name"] == cloud.bucket  # the template's bucket name rule
    path = write_sloopy([generate_school("CTS", students=20)], tmp_path / "x.zip")
    put = cloud.client("s3").put_object(
        Bucket=cloud.bucket, Key="uploads/d1/CTS/sloopy nightly.zip", Body=path.read_bytes()
    )
    record["object"]["versionId"] = put["VersionId"]
    result = cloud.invoke("ImporterFunction", event)
    assert result["imports"][0]["status"] == "succeeded"


def test_api_events_are_answered(cloud):
    put = cloud.invoke("ApiFunction", load("api-put-calendar.json"))
    assert put["statusCode"] == 200, put["body"]
    listed = cloud.invoke("ApiFunction", load("api-list-imports.json"))
    assert listed["statusCode"] == 200 and json.loads(listed["body"]) == {"items": [], "next_cursor": None}
    alert = json.loads(cloud.invoke("ApiFunction", load("api-school-alert.json"))["body"])
    assert alert["status"] == "never_imported"


def test_schedule_event_runs_the_checker(cloud):
    assert cloud.invoke("CheckerFunction", load("checker-schedule.json"))["schools"] == 0


def _with_body(event: dict, **changes: str) -> dict:
    record = event["Records"][0]
    record["body"] = json.dumps({**json.loads(record["body"]), **changes})
    return event


def test_sqs_school_work_imports_the_part_it_names(cloud, tmp_path: Path):
    """A district bundle's part for one school, as the bundle's own invocation queued it."""
    event = load("sqs-school-work.json")
    work = json.loads(event["Records"][0]["body"])
    assert work["source"]["bucket"] == cloud.bucket
    part = write_sloopy([generate_school("CTS", students=20)], tmp_path / "CTS.zip")
    cloud.client("s3").put_object(Bucket=cloud.bucket, Key=work["part_key"], Body=part.read_bytes())
    result = cloud.handler("ImporterFunction")(event, LambdaContext("ImporterFunction"))
    assert result["imports"] == [
        {"school_id": "CTS", "import_id": work["import_id"], "status": "succeeded", "duplicate": False}
    ]


def test_sqs_decision_carries_out_a_queued_approve(cloud, tmp_path: Path, monkeypatch):
    """An approve the API handed to the importer (a large one): the importer applies it."""
    from datetime import UTC, datetime, timedelta

    from sis_imports import config
    from sis_imports.api.services import use_services
    from sis_imports.local.events import claims_for

    monkeypatch.setenv("DECISION_INLINE_CHANGES", "0")
    config.settings.cache_clear()
    use_services(None)
    day = datetime(2026, 10, 6, 2, 15, tzinfo=UTC)
    school = generate_school("CTS", students=50)
    cloud.import_file(write_sloopy([school], tmp_path / "1.zip"), "uploads/d1/CTS/1.zip", day)
    for student_id in sorted(school.students)[:25]:
        del school.students[student_id]
    school.enrollments = {e for e in school.enrollments if e[1] in school.students}
    held = cloud.import_file(
        write_sloopy([school], tmp_path / "2.zip"), "uploads/d1/CTS/2.zip", day + timedelta(days=1)
    )
    import_id = held["imports"][0]["import_id"]
    admin = claims_for("district_admin", "d1")
    answer = cloud.api(
        "POST", f"/districts/d1/schools/CTS/imports/{import_id}/approve", admin, day + timedelta(days=1)
    )
    assert answer["statusCode"] == 202
    cloud.client("sqs").purge_queue(
        QueueUrl=cloud.stack.refs["SchoolImportQueue"]
    )  # the committed event stands in
    event = _with_body(load("sqs-decision.json"), import_id=import_id)
    result = cloud.handler("ImporterFunction")(event, LambdaContext("ImporterFunction"))
    assert result["imports"][0]["status"] == "succeeded"
