"""The import pipeline end to end on moto: upload -> importer handler -> tables -> records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sis_imports import synthetic
from sis_imports.synthetic import generate_school, next_day, write_oneroster, write_sds, write_sloopy

from .uploads import SLOOPY_SCHOOL, make_zip, sloopy

DAY1 = datetime(2026, 9, 14, 8, 30, tzinfo=UTC)
KEY = "uploads/d1/CTS/export.zip"


def records(cloud, school="CTS", district="d1"):
    from sis_imports.dynamo import from_item

    items = [from_item(i) for i in cloud.scan("ImportsTable")]
    return sorted((i for i in items if i["pk"] == f"{district}#{school}"), key=lambda i: i["sk"])


def roster_items(cloud):
    from sis_imports.dynamo import from_item

    return [from_item(i) for i in cloud.scan("RosterTable")]


def test_first_upload_of_an_800_student_school_succeeds_with_exact_totals(cloud, tmp_path: Path):
    # Given an 800-student school's Sloopy export
    school = generate_school("CTS", students=800)
    upload = write_sloopy([school], tmp_path / "day1.zip")
    # When it is uploaded
    result = cloud.import_file(upload, KEY, DAY1)
    # Then one succeeded record holds exact totals, every record new and active
    assert [r["status"] for r in result["imports"]] == ["succeeded"]
    (record,) = records(cloud)
    assert record["status"] == "succeeded"
    assert record["format"] == "sloopy"
    for entity, count in school.counts().items():
        assert record["counts"][entity] == {"total": count, "new": count, "dropped": 0, "active": count}
    assert record["created_at"] == DAY1.isoformat()
    assert record["source"]["key"] == KEY
    assert len(roster_items(cloud)) == sum(school.counts().values())


def test_next_day_gives_exact_new_dropped_and_keeps_the_first_name(cloud, tmp_path: Path):
    school = generate_school("CTS", students=800)
    day2 = next_day(school, new_students=5, gone_students=3, class_changes=10, renamed_teachers=1)
    cloud.import_file(write_sloopy([school], tmp_path / "d1.zip"), KEY, DAY1)
    cloud.import_file(write_sloopy([day2], tmp_path / "d2.zip"), KEY, DAY1 + timedelta(days=1))

    latest = records(cloud)[-1]
    counts = latest["counts"]
    n_students = len(school.students)
    assert counts["students"] == {"total": n_students + 5, "new": 5, "dropped": 3, "active": n_students + 2}
    gone_enrollments = len(school.enrollments - day2.enrollments)
    new_enrollments = len(day2.enrollments - school.enrollments)
    assert gone_enrollments == 3 * 6 + 10 and new_enrollments == 5 + 10
    assert counts["enrollments"] == {
        "total": len(school.enrollments) + new_enrollments,
        "new": new_enrollments,
        "dropped": gone_enrollments,
        "active": len(day2.enrollments),
    }
    for entity in ("teachers", "courses", "sections"):
        n = len(getattr(school, entity))
        assert counts[entity] == {"total": n, "new": 0, "dropped": 0, "active": n}
    # The renamed teacher keeps the name of the first import.
    renamed_id = sorted(school.teachers)[0]
    (teacher,) = [i for i in roster_items(cloud) if i["sk"] == f"T#{renamed_id}"]
    assert teacher["last_name"] == school.teachers[renamed_id][0]
    # Dropped students are kept, marked inactive.
    dropped = sorted(school.students)[:3]
    kept = {i["sk"]: i for i in roster_items(cloud)}
    assert all(kept[f"S#{sid}"]["active"] is False for sid in dropped)


def test_identical_third_upload_reports_zero_changes_and_writes_nothing(cloud, tmp_path: Path):
    school = generate_school("CTS", students=200)
    path = write_sloopy([school], tmp_path / "same.zip")
    cloud.import_file(path, KEY, DAY1)
    before = roster_items(cloud)
    cloud.import_file(path, KEY, DAY1 + timedelta(days=1))
    third = records(cloud)[-1]
    assert third["status"] == "succeeded"
    assert all(c["new"] == 0 and c["dropped"] == 0 for c in third["counts"].values())
    # No roster item was rewritten: every item still names the first import as its last change.
    assert roster_items(cloud) == before


def test_dropped_record_that_returns_is_reactivated_not_new(cloud, tmp_path: Path):
    school = generate_school("CTS", students=50)
    smaller = school.copy()
    gone = sorted(smaller.students)[0]
    del smaller.students[gone]
    smaller.enrollments = {e for e in smaller.enrollments if e[1] != gone}
    cloud.import_file(write_sloopy([school], tmp_path / "a.zip"), KEY, DAY1)
    cloud.import_file(write_sloopy([smaller], tmp_path / "b.zip"), KEY, DAY1 + timedelta(days=1))
    cloud.import_file(write_sloopy([school], tmp_path / "c.zip"), KEY, DAY1 + timedelta(days=2))
    students = records(cloud)[-1]["counts"]["students"]
    assert students == {"total": 50, "new": 0, "dropped": 0, "active": 50}


@pytest.mark.parametrize("writer", [write_oneroster, write_sds], ids=["oneroster", "sds"])
def test_same_data_in_other_formats_gives_the_same_counts(cloud, tmp_path: Path, writer):
    school = generate_school("CTS", students=120)
    cloud.import_file(write_sloopy([school], tmp_path / "s.zip"), "uploads/d1/CTS/s.zip", DAY1)
    cloud.import_file(writer([school], tmp_path / "o.zip"), "uploads/d2/CTS/o.zip", DAY1)
    sloopy_counts = records(cloud, district="d1")[-1]["counts"]
    other = records(cloud, district="d2")[-1]
    assert other["status"] == "succeeded", other.get("reason")
    assert other["counts"] == sloopy_counts


def test_district_bundle_makes_one_record_per_school(cloud, tmp_path: Path):
    schools = [generate_school(s, students=40) for s in ("AHS", "BMS")]
    result = cloud.import_file(write_sloopy(schools, tmp_path / "bundle.zip"), "uploads/d1/nightly.zip", DAY1)
    assert sorted((r["school_id"], r["status"]) for r in result["imports"]) == [
        ("AHS", "succeeded"),
        ("BMS", "succeeded"),
    ]
    for school in schools:
        (record,) = records(cloud, school.school_id)
        assert record["counts"]["students"]["total"] == 40


def test_a_small_bundle_is_imported_in_its_own_invocation(cloud, tmp_path: Path):
    from sis_imports.local.lambdas import LambdaContext

    schools = [generate_school(s, students=20) for s in ("AHS", "BMS")]
    event = cloud.upload(write_sloopy(schools, tmp_path / "bundle.zip"), "uploads/d1/nightly.zip", DAY1)
    done = cloud.handler("ImporterFunction")(event, LambdaContext("ImporterFunction"))
    assert {r["status"] for r in done["imports"]} == {"succeeded"}
    for school in schools:
        (record,) = records(cloud, school.school_id)
        assert record["status"] == "succeeded" and record["counts"]["students"]["total"] == 20
    assert not cloud.client("s3").list_objects_v2(Bucket=cloud.bucket, Prefix="work/").get("Contents")


def test_a_bundles_schools_show_their_records_before_their_work_items_run(
    cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from sis_imports import config
    from sis_imports.local.lambdas import LambdaContext

    monkeypatch.setenv("BUNDLE_FAN_OUT_BYTES", "0")  # any bundle fans out
    config.settings.cache_clear()
    schools = [generate_school(s, students=20) for s in ("AHS", "BMS")]
    event = cloud.upload(write_sloopy(schools, tmp_path / "bundle.zip"), "uploads/d1/nightly.zip", DAY1)
    # The bundle's own invocation only splits and queues; the queue is not drained yet.
    queued = cloud.handler("ImporterFunction")(event, LambdaContext("ImporterFunction"))
    assert {r["status"] for r in queued["imports"]} == {"queued"}
    for school in schools:
        (record,) = records(cloud, school.school_id)
        assert record["status"] == "processing" and record["format"] == "sloopy"
        assert record["created_at"] == DAY1.isoformat()
    cloud.drain_school_queue()
    for school in schools:
        (record,) = records(cloud, school.school_id)
        assert record["status"] == "succeeded" and record["counts"]["students"]["total"] == 20


def test_public_sds_sample_gives_one_record_per_school(cloud, samples: Path, tmp_path: Path):
    import zipfile

    bundle = tmp_path / "sds.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        for path in (samples / "sds-v1-100-users").iterdir():
            zf.write(path, path.name)
    cloud.import_file(bundle, "uploads/d1/sds.zip", DAY1)
    expected = {"10001": (60, 7, 14, 14, 420), "10002": (26, 5, 14, 14, 182)}
    for school_id, (students, teachers, sections, courses, enrollments) in expected.items():
        (record,) = records(cloud, school_id)
        totals = {entity: c["total"] for entity, c in record["counts"].items()}
        assert totals == {
            "students": students,
            "teachers": teachers,
            "sections": sections,
            "courses": courses,
            "enrollments": enrollments,
        }
    # Passwords and birthdates from the sample are nowhere in the tables.
    dump = json.dumps([cloud.scan(t) for t in ("RosterTable", "ImportsTable", "SchoolsTable")])
    for secret in ("P@ssword", "P@ssw0rd", "4/2/2000", "Microsoft Way", "555-123-4567"):
        assert secret not in dump


def test_duplicate_delivery_makes_one_record(cloud, tmp_path: Path):
    event = cloud.upload(write_sloopy([generate_school("CTS", students=30)], tmp_path / "x.zip"), KEY, DAY1)
    first = cloud.invoke("ImporterFunction", event)
    second = cloud.invoke("ImporterFunction", event)
    assert first["imports"][0]["duplicate"] is False
    assert second["imports"][0]["duplicate"] is True
    assert len(records(cloud)) == 1


def test_older_upload_arriving_late_is_recorded_but_never_rolls_back(cloud, tmp_path: Path):
    school = generate_school("CTS", students=30)
    day2 = next_day(school, class_changes=3)
    newer = cloud.upload(write_sloopy([day2], tmp_path / "new.zip"), KEY, DAY1 + timedelta(days=1))
    older = cloud.upload(write_sloopy([school], tmp_path / "old.zip"), "uploads/d1/CTS/old.zip", DAY1)
    cloud.invoke("ImporterFunction", newer)
    roster_after_newer = roster_items(cloud)
    cloud.invoke("ImporterFunction", older)
    statuses = [r["status"] for r in records(cloud)]
    assert statuses == ["blocked", "succeeded"]  # sorted by arrival: the older one first
    assert "newer upload" in records(cloud)[0]["reason"]
    assert roster_items(cloud) == roster_after_newer


def test_no_personal_data_reaches_tables_or_logs(cloud, tmp_path: Path, log_output):
    school = generate_school("CTS", students=60)
    for n, writer in enumerate((write_sloopy, write_oneroster, write_sds)):
        cloud.import_file(writer([school], tmp_path / f"{n}.zip"), f"uploads/d{n}/CTS/x.zip", DAY1)
    dump = json.dumps([cloud.scan(t) for t in ("RosterTable", "ImportsTable", "SchoolsTable")])
    logs = log_output.getvalue()
    assert "import finished" in logs  # the logs were captured
    for text in (dump, logs):
        assert synthetic.PII_EMAIL_DOMAIN not in text
        assert synthetic.PII_PASSWORD not in text
        assert synthetic.PII_STREET not in text
        assert synthetic.pii_phone(3) not in text
        assert synthetic.pii_birthdate(3) not in text


BROKEN = {
    "not_a_zip": lambda p: (p.write_bytes(b"Students,Teachers\n1,2\n"), p)[1],
    "empty_file": lambda p: (p.write_bytes(b""), p)[1],
    "unknown_format": lambda p: make_zip(p, {"report.pdf": "%PDF"}),
    "missing_file": lambda p: sloopy(p, Sections_txt=None),
    "wrong_columns": lambda p: sloopy(p, Students_txt="S1;Garcia;Ava\nS2;Kim;Leo\n"),
    "other_school": lambda p: make_zip(p, {f"LHS_{n}": b for n, b in SLOOPY_SCHOOL.items()}),
}


@pytest.mark.parametrize("code", sorted(BROKEN))
def test_broken_upload_fails_with_a_clear_message_and_leaves_the_roster_alone(cloud, tmp_path: Path, code):
    cloud.import_file(sloopy(tmp_path / "good.zip"), KEY, DAY1)
    roster_before = roster_items(cloud)
    result = cloud.import_file(
        BROKEN[code](tmp_path / "bad.zip"), "uploads/d1/CTS/bad.zip", DAY1 + timedelta(days=1)
    )
    assert result["imports"][0]["status"] == "failed"
    failed = records(cloud)[-1]
    assert failed["status"] == "failed"
    assert failed["errors"][0]["code"] == code
    assert len(failed["reason"]) > 30 and failed["reason"] == failed["errors"][0]["message"]
    assert roster_items(cloud) == roster_before


def test_broken_district_bundle_gets_a_failed_bundle_record(cloud, tmp_path: Path):
    path = tmp_path / "bad.zip"
    path.write_bytes(b"not a zip at all")
    result = cloud.import_file(path, "uploads/d1/nightly.zip", DAY1)
    assert result["imports"][0]["status"] == "failed"
    (record,) = records(cloud, school="_bundle")
    assert record["status"] == "failed" and "not a zip" in record["reason"]


def test_key_outside_the_layout_is_logged_and_ignored(cloud, tmp_path: Path, log_output):
    result = cloud.import_file(sloopy(tmp_path / "u.zip"), "uploads/too/many/levels/x.zip", DAY1)
    assert result == {"imports": []}
    assert "bad key" in log_output.getvalue()


def test_url_encoded_keys_are_decoded(cloud, tmp_path: Path):
    result = cloud.import_file(sloopy(tmp_path / "u.zip"), "uploads/d1/CTS/nightly export.zip", DAY1)
    assert result["imports"][0]["status"] == "succeeded"
    assert records(cloud)[0]["source"]["key"] == "uploads/d1/CTS/nightly export.zip"
