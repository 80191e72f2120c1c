"""The committed events in events/ are what `sam local invoke -e` would use; they must work."""

from __future__ import annotations

import json
from pathlib import Path

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
