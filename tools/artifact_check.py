"""Checks the real artifact: `sam build` output, run under the Lambda runtime's Python with only the
layer and boto3, against a moto server holding the template's resources.

Through the built handlers it imports a school, holds a day-2 upload that drops 40% of the students
and approves it over the API, imports a small two-school district bundle, sets a calendar (and is
refused a bad one), blocks an upload after the last day, reads the history, and runs the checker.
Any failure exits non-zero with the handler's output.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from sis_imports.local.events import claims_for, http_event, s3_put_event, schedule_event
from sis_imports.local.template import Stack, create_stack, handler_location, load_template
from sis_imports.synthetic import SyntheticSchool, generate_school, write_sds, write_sloopy

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
AT = datetime(2026, 10, 5, 9, tzinfo=UTC)


@dataclass
class BuiltStack:
    """The template's resources on a moto server, and the built handlers run against them."""

    python: str
    stack: Stack
    session: Any
    base_env: dict[str, str]

    def run(self, logical_id: str, event: dict) -> dict:
        env = {**self.base_env, **self.stack.function_environment(logical_id)}
        done = subprocess.run(  # noqa: S603 - our own interpreter and script
            [
                self.python,
                str(ROOT / "tools" / "invoke_built.py"),
                str(BUILD),
                logical_id,
                handler_location(self.stack, logical_id)[1],
            ],
            input=json.dumps(event),
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(
                f"{logical_id} failed under {self.python}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def upload(self, path: Path, key: str, when: datetime) -> dict:
        bucket = self.stack.refs["UploadBucket"]
        put = self.session.client("s3").put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        event = s3_put_event(
            bucket,
            key,
            size=path.stat().st_size,
            etag=put["ETag"].strip('"'),
            version_id=put.get("VersionId"),
            at=when,
        )
        return self.run("ImporterFunction", event)

    def api(self, method: str, path: str, when: datetime, body: dict | None = None) -> tuple[int, dict]:
        event = http_event(method, path, claims=claims_for("district_admin", "d1"), at=when, body=body)
        response = self.run("ApiFunction", event)
        return response["statusCode"], json.loads(response["body"])


def imports_holds_and_approves(built: BuiltStack, day1: SyntheticSchool, folder: Path) -> None:
    result = built.upload(write_sloopy([day1], folder / "cts.zip"), "uploads/d1/CTS/cts.zip", AT)
    assert result["imports"][0]["status"] == "succeeded", result
    day2 = day1.copy()
    for student_id in sorted(day2.students)[:320]:
        del day2.students[student_id]
    day2.enrollments = {e for e in day2.enrollments if e[1] in day2.students}
    later = AT + timedelta(days=1)
    held = built.upload(write_sloopy([day2], folder / "d2.zip"), "uploads/d1/CTS/d2.zip", later)
    assert held["imports"][0]["status"] == "held", held
    import_id = held["imports"][0]["import_id"]
    code, approved = built.api("POST", f"/districts/d1/schools/CTS/imports/{import_id}/approve", later)
    assert code == 200 and approved["status"] == "succeeded", approved
    assert approved["counts"]["students"] == {"total": 800, "new": 0, "dropped": 320, "active": 480}
    code, body = built.api("GET", "/districts/d1/schools/CTS/imports", later)
    assert code == 200 and [i["status"] for i in body["items"]] == ["succeeded", "succeeded"], body
    assert body["items"][1]["counts"]["students"]["total"] == 800, body


def imports_a_small_bundle(built: BuiltStack, folder: Path) -> None:
    schools = [generate_school("AHS", students=60), generate_school("BMS", students=40)]
    result = built.upload(write_sds(schools, folder / "sds.zip"), "uploads/d1/district.zip", AT)
    assert {(r["school_id"], r["status"]) for r in result["imports"]} == {
        ("AHS", "succeeded"),
        ("BMS", "succeeded"),
    }, result


def blocks_after_the_last_day(built: BuiltStack, day1: SyntheticSchool, folder: Path) -> None:
    calendar = {
        "school_year": "2026-2027",
        "first_day": "2026-08-20",
        "last_day": "2026-10-06",
        "timezone": "America/Chicago",
    }
    code, body = built.api("PUT", "/districts/d1/schools/CTS/calendar", AT, calendar)
    assert code == 200, body
    code, body = built.api(
        "PUT", "/districts/d1/schools/CTS/calendar", AT, {**calendar, "last_day": "2026-08-01"}
    )
    assert code == 400 and body["field"] == "last_day", body
    late = built.upload(
        write_sloopy([day1], folder / "late.zip"), "uploads/d1/CTS/late.zip", AT + timedelta(days=3)
    )
    assert late["imports"][0]["status"] == "blocked", late


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        built = BuiltStack(
            python=sys.argv[1],
            stack=create_stack(load_template(ROOT / "template.yaml"), session),
            session=session,
            base_env={
                "PATH": os.environ["PATH"],
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": endpoint,
                "POWERTOOLS_TRACE_DISABLED": "true",
            },
        )
        day1 = generate_school("CTS", students=800)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            imports_holds_and_approves(built, day1, folder)
            imports_a_small_bundle(built, folder)
            blocks_after_the_last_day(built, day1, folder)
        summary = built.run("CheckerFunction", schedule_event(AT + timedelta(days=4)))
        # AHS and BMS are stale; CTS is past its last day, in summer.
        assert summary["schools"] == 3 and summary["notified_stale"] == 2, summary
        print(f"artifact check passed under {built.python}: importer, API and checker ran from {BUILD}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
