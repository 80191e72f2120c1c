"""Personal data never leaves the file: not in a table, a log line, a metric or an API response."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sis_imports import synthetic
from sis_imports.local.events import claims_for
from sis_imports.redaction import redact
from sis_imports.synthetic import generate_school, write_oneroster, write_sds, write_sloopy

from .uploads import sloopy

AT = datetime(2026, 10, 5, 9, tzinfo=UTC)
SECRETS = [
    synthetic.PII_EMAIL_DOMAIN,
    synthetic.PII_PASSWORD,
    synthetic.PII_STREET,
    synthetic.pii_phone(1),
    synthetic.pii_phone(8),
    synthetic.pii_birthdate(1),
    synthetic.pii_birthdate(2),
]


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} found in {where}"


def test_nothing_personal_in_tables_logs_metrics_or_responses(cloud, tmp_path: Path, log_output, capsys):
    school = generate_school("CTS", students=40)
    for n, writer in enumerate((write_sloopy, write_oneroster, write_sds)):
        cloud.import_file(writer([school], tmp_path / f"{n}.zip"), f"uploads/d{n}/CTS/x.zip", AT)
    # A broken row carrying an e-mail address and a phone number: its warning must not quote them.
    bad = sloopy(
        tmp_path / "bad.zip",
        Students_txt=(f"S1\tA\tB\t9\r\nS2\tsomeone@{synthetic.PII_EMAIL_DOMAIN}\r\nS3\tC\tD\t9\r\n"),
    )
    cloud.import_file(bad, "uploads/d9/CTS/bad.zip", AT)

    responses = []
    for district in ("d0", "d1", "d2", "d9"):
        admin = claims_for("district_admin", district)
        page = cloud.api("GET", f"/districts/{district}/schools/CTS/imports", admin, AT + timedelta(hours=1))
        responses.append(page["body"])
        for item in json.loads(page["body"])["items"]:
            responses.append(
                cloud.api("GET", f"/districts/{district}/schools/CTS/imports/{item['import_id']}", admin, AT)[
                    "body"
                ]
            )
        responses.append(cloud.api("GET", f"/districts/{district}/schools/CTS/alert", admin, AT)["body"])
        responses.append(cloud.api("GET", f"/districts/{district}/alerts", admin, AT)["body"])
    d9_record = json.loads(responses[-3])  # page, record, alert, alerts: d9's record
    assert d9_record["district_id"] == "d9"
    assert d9_record["warning_count"] >= 1 and d9_record["warnings"][0]["file"] == "Students.txt"

    stdout = capsys.readouterr().out
    metric_lines = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]
    assert metric_lines, "the handlers' metrics were captured"
    for line in metric_lines:
        for directive in line["_aws"]["CloudWatchMetrics"]:
            dimensions = {name: line[name] for group in directive["Dimensions"] for name in group}
            assert_clean(json.dumps(dimensions), "a metric dimension")
            assert set(dimensions) <= {"service"}

    tables = json.dumps([cloud.scan(t) for t in ("RosterTable", "ImportsTable", "SchoolsTable")])
    assert_clean(tables, "a table")
    assert_clean(log_output.getvalue(), "a log line")
    assert_clean("\n".join(responses), "an API response")


def test_redaction_masks_what_a_message_could_carry():
    text = "row 5: jane.doe@school.example, (555) 123-4567, born 04/02/2010 or 2010-04-02; id S123"
    masked = redact(text)
    for secret in ("jane.doe@school.example", "123-4567", "04/02/2010", "2010-04-02"):
        assert secret not in masked
    assert "id S123" in masked and "row 5" in masked
