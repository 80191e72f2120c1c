"""Issue #6: the mass-change hold with approve and discard, rollback, crash safety and the lease."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sis_imports.local.events import claims_for
from sis_imports.model import enrollment_id
from sis_imports.synthetic import generate_school, next_day, write_sloopy

DAY1 = datetime(2026, 9, 14, 8, 30, tzinfo=UTC)
KEY = "uploads/d1/CTS/night.zip"
ADMIN = claims_for("school_admin", "d1", ["CTS"])


def roster(cloud) -> list[dict]:
    return sorted(cloud.scan("RosterTable"), key=lambda item: item["sk"]["S"])


def latest(cloud) -> dict:
    body = cloud.api(
        "GET", "/districts/d1/schools/CTS/imports", ADMIN, DAY1 + timedelta(days=30), query={"limit": "1"}
    )
    return json.loads(body["body"])["items"][0]


def decide(cloud, import_id: str, action: str, claims=ADMIN) -> tuple[int, dict]:
    response = cloud.api(
        "POST", f"/districts/d1/schools/CTS/imports/{import_id}/{action}", claims, DAY1 + timedelta(days=3)
    )
    return response["statusCode"], json.loads(response["body"])


def without_students(school, share: float, seed: int = 9):
    smaller = school.copy()
    gone = sorted(smaller.students)[: int(len(smaller.students) * share)]
    for student_id in gone:
        del smaller.students[student_id]
    smaller.enrollments = {e for e in smaller.enrollments if e[1] in smaller.students}
    return smaller


def hold_a_40_percent_drop(cloud, day1, tmp_path: Path) -> dict:
    """Day 2's upload drops 40% of the students, so it is held; its import record."""
    cloud.import_file(
        write_sloopy([without_students(day1, 0.4)], tmp_path / "d2.zip"),
        "uploads/d1/CTS/d2.zip",
        DAY1 + timedelta(days=1),
    )
    return latest(cloud)


@contextmanager
def dies_after(monkeypatch: pytest.MonkeyPatch, batches: int) -> Iterator[None]:
    """The importer dies (a Lambda timeout) after writing this many roster batches; then it is whole again."""
    from sis_imports import roster_store

    flush = roster_store.RosterStore._flush
    calls = {"n": 0}

    def dying_flush(self, batch, stats):
        calls["n"] += 1
        if calls["n"] > batches:
            raise TimeoutError("Lambda timed out between two batches")
        return flush(self, batch, stats)

    monkeypatch.setattr(roster_store.RosterStore, "_flush", dying_flush)
    try:
        yield
    finally:
        monkeypatch.setattr(roster_store.RosterStore, "_flush", flush)


@pytest.fixture
def day1(cloud, tmp_path: Path):
    school = generate_school("CTS", students=100)
    cloud.import_file(write_sloopy([school], tmp_path / "d1.zip"), KEY, DAY1)
    return school


def test_dropping_40_percent_is_held_and_approve_applies_it_exactly(cloud, day1, tmp_path: Path):
    before = roster(cloud)
    day2 = without_students(day1, 0.4)
    result = cloud.import_file(
        write_sloopy([day2], tmp_path / "d2.zip"), "uploads/d1/CTS/d2.zip", DAY1 + timedelta(days=1)
    )
    assert result["imports"][0]["status"] == "held"
    held = latest(cloud)
    assert held["status"] == "held" and "40 of 100 active students" in held["reason"]
    assert held["counts"]["students"]["dropped"] == 40
    assert roster(cloud) == before

    # A clean run of the same upload without the hold, in another district, is the reference.
    cloud.import_file(write_sloopy([day1], tmp_path / "r1.zip"), "uploads/ref/CTS/a.zip", DAY1)
    code, approved = decide(cloud, held["import_id"], "approve")
    assert code == 200, approved
    assert approved["status"] == "succeeded"
    assert approved["counts"] == held["counts"]
    (action,) = approved["actions"]
    assert action["action"] == "approve" and action["role"] == "school_admin" and action["by"]
    active = {
        item["sk"]["S"]
        for item in roster(cloud)
        if item["pk"]["S"].startswith("d1#") and item["active"]["BOOL"]
    }
    expected = (
        {f"S#{s}" for s in day2.students}
        | {f"T#{t}" for t in day2.teachers}
        | {f"C#{c}" for c in day2.courses}
        | {f"X#{x}" for x in day2.sections}
        | {f"E#{enrollment_id(x, s)}" for x, s in day2.enrollments}
    )
    assert active == expected
    assert decide(cloud, held["import_id"], "approve")[0] == 409  # only once


def test_discard_leaves_everything_as_it_was(
    cloud,
    day1,
    tmp_path: Path,
):
    before = roster(cloud)
    held = hold_a_40_percent_drop(cloud, day1, tmp_path)
    code, discarded = decide(cloud, held["import_id"], "discard")
    assert code == 200 and discarded["status"] == "discarded"
    assert discarded["actions"][0]["action"] == "discard"
    assert roster(cloud) == before
    assert decide(cloud, held["import_id"], "approve")[0] == 409


def test_adding_too_many_is_held_and_the_threshold_is_configurable(cloud, day1, tmp_path: Path):
    bigger = next_day(day1, new_students=15, gone_students=0, class_changes=0, renamed_teachers=0)
    path = write_sloopy([bigger], tmp_path / "d2.zip")
    cloud.import_file(path, "uploads/d1/CTS/d2.zip", DAY1 + timedelta(days=1))
    assert latest(cloud)["status"] == "held" and "add 15 of 100" in latest(cloud)["reason"]
    response = cloud.api(
        "PUT", "/districts/d1/schools/CTS/settings", ADMIN, DAY1, body={"hold_threshold_percent": 20}
    )
    assert response["statusCode"] == 200
    cloud.import_file(path, "uploads/d1/CTS/d3.zip", DAY1 + timedelta(days=2))
    assert latest(cloud)["status"] == "succeeded"


def test_only_admins_of_the_school_may_decide(cloud, day1, tmp_path: Path):
    cloud.import_file(
        write_sloopy([without_students(day1, 0.5)], tmp_path / "d2.zip"),
        "uploads/d1/CTS/d2.zip",
        DAY1 + timedelta(days=1),
    )
    import_id = latest(cloud)["import_id"]
    for claims, status in (
        (claims_for("teacher", "d1", ["CTS"]), 403),
        (claims_for("school_admin", "d1", ["LHS"]), 403),
        (claims_for("district_admin", "d2"), 403),
        (None, 401),
    ):
        assert decide(cloud, import_id, "approve", claims)[0] == status
    assert latest(cloud)["status"] == "held"


def test_rollback_restores_the_day1_roster_exactly(cloud, day1, tmp_path: Path):
    before = {item["sk"]["S"]: item for item in roster(cloud)}
    day2 = next_day(day1, new_students=3, gone_students=2, class_changes=4, renamed_teachers=1)
    cloud.import_file(
        write_sloopy([day2], tmp_path / "d2.zip"), "uploads/d1/CTS/d2.zip", DAY1 + timedelta(days=1)
    )
    applied = latest(cloud)
    assert applied["status"] == "succeeded"
    code, rolled = decide(cloud, applied["import_id"], "rollback")
    assert code == 200, rolled
    assert rolled["status"] == "rolled_back" and rolled["modified_at"] > applied["modified_at"]
    assert rolled["actions"][0]["action"] == "rollback"
    after = {item["sk"]["S"]: item for item in roster(cloud)}
    assert set(after) == set(before)
    for sk, item in before.items():
        # Names, dropped flags, and which import last wrote each record: every attribute as it was.
        assert after[sk] == item, sk
    assert decide(cloud, applied["import_id"], "rollback")[0] == 409
    # The same upload may be sent again and applies again.
    cloud.import_file(
        write_sloopy([day2], tmp_path / "again.zip"), "uploads/d1/CTS/again.zip", DAY1 + timedelta(days=2)
    )
    assert latest(cloud)["counts"] == applied["counts"]


def test_only_the_latest_applied_import_can_be_rolled_back(cloud, day1, tmp_path: Path):
    first = latest(cloud)
    cloud.import_file(
        write_sloopy([next_day(day1)], tmp_path / "d2.zip"), "uploads/d1/CTS/d2.zip", DAY1 + timedelta(days=1)
    )
    code, body = decide(cloud, first["import_id"], "rollback")
    assert code == 409 and "most recent applied import" in body["message"]


def test_an_importer_killed_mid_write_converges_on_retry(cloud, day1, tmp_path: Path, monkeypatch):
    day2 = next_day(day1, new_students=5, gone_students=3, class_changes=10)
    path = write_sloopy([day2], tmp_path / "d2.zip")
    # The reference: the same two nights in another district, uninterrupted.
    cloud.import_file(write_sloopy([day1], tmp_path / "r1.zip"), "uploads/ref/CTS/1.zip", DAY1)
    cloud.import_file(path, "uploads/ref/CTS/2.zip", DAY1 + timedelta(days=1))

    event = cloud.upload(path, "uploads/d1/CTS/d2.zip", DAY1 + timedelta(days=1))
    day1_roster = [i for i in roster(cloud) if i["pk"]["S"].startswith("d1#")]
    with dies_after(monkeypatch, batches=1), pytest.raises(TimeoutError):
        cloud.invoke("ImporterFunction", event)
    assert latest(cloud)["status"] == "processing"
    retried = cloud.invoke("ImporterFunction", event)  # Lambda's retry of the same event
    assert retried["imports"][0]["status"] == "succeeded"

    def state(district):
        items = [i for i in cloud.scan("RosterTable") if i["pk"]["S"].startswith(f"{district}#")]
        return {i["sk"]["S"]: (i["active"]["BOOL"], i.get("last_name", {}).get("S")) for i in items}

    assert state("d1") == state("ref")
    reference = cloud.api(
        "GET",
        "/districts/ref/schools/CTS/imports",
        claims_for("district_admin", "ref"),
        DAY1,
        query={"limit": "1"},
    )
    assert latest(cloud)["counts"] == json.loads(reference["body"])["items"][0]["counts"]
    # The retry kept the first attempt's undo log, so a rollback still finds the day-1 roster.
    assert decide(cloud, latest(cloud)["import_id"], "rollback")[0] == 200
    assert [i for i in roster(cloud) if i["pk"]["S"].startswith("d1#")] == day1_roster


def test_a_first_import_killed_mid_write_is_not_held_on_retry(cloud, tmp_path: Path, monkeypatch):
    """The retry sees a roster the first attempt half wrote; it must finish, not judge it a mass add."""
    school = generate_school("NEW", students=200)
    path = write_sloopy([school], tmp_path / "first.zip")
    event = cloud.upload(path, "uploads/d1/NEW/first.zip", DAY1)
    with dies_after(monkeypatch, batches=10), pytest.raises(TimeoutError):
        cloud.invoke("ImporterFunction", event)
    assert 0 < len(cloud.scan("RosterTable")) < sum(school.counts().values())

    retried = cloud.invoke("ImporterFunction", event)
    assert retried["imports"][0]["status"] == "succeeded"
    response = cloud.api("GET", "/districts/d1/schools/NEW/imports", claims_for("district_admin", "d1"), DAY1)
    counts = json.loads(response["body"])["items"][0]["counts"]
    assert {entity: c["new"] for entity, c in counts.items()} == school.counts()
    assert len(cloud.scan("RosterTable")) == sum(school.counts().values())


def test_concurrent_deliveries_for_one_school_end_with_the_newest_roster(
    cloud, day1, tmp_path: Path, monkeypatch
):
    # DynamoDB applies each conditional write atomically; in-process moto does not across threads.
    # One lock around each API call gives the test DynamoDB's atomicity, and no more than that.
    from botocore.client import BaseClient

    make_api_call, one_call_at_a_time = BaseClient._make_api_call, threading.Lock()

    def atomic_call(self, operation, params):
        with one_call_at_a_time:
            return make_api_call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", atomic_call)
    older = next_day(day1, seed=21, new_students=2, gone_students=1, class_changes=2)
    newer = next_day(day1, seed=22, new_students=4, gone_students=2, class_changes=3)
    older_event = cloud.upload(
        write_sloopy([older], tmp_path / "o.zip"), "uploads/d1/CTS/o.zip", DAY1 + timedelta(days=1)
    )
    newer_event = cloud.upload(
        write_sloopy([newer], tmp_path / "n.zip"), "uploads/d1/CTS/n.zip", DAY1 + timedelta(days=1, minutes=5)
    )
    handler = cloud.handler("ImporterFunction")
    from sis_imports.local.lambdas import LambdaContext

    errors: list[BaseException] = []

    def deliver(event):
        try:
            handler(event, LambdaContext("ImporterFunction"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(e,)) for e in (newer_event, older_event)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    active_students = {
        i["sk"]["S"][2:]
        for i in cloud.scan("RosterTable")
        if i["sk"]["S"].startswith("S#") and i["active"]["BOOL"]
    }
    assert active_students == set(newer.students)


def test_the_lease_admits_one_holder_and_its_own_retry(cloud):
    from sis_imports.lease import SchoolBusy, SchoolLease
    from sis_imports.schools import Schools

    schools = Schools(cloud.client("dynamodb"), cloud.stack.refs["SchoolsTable"])
    lease = SchoolLease(schools, timedelta(minutes=16), wait_seconds=0)
    lease.acquire("d1", "CTS", "import-a", DAY1)
    lease.acquire("d1", "CTS", "import-a", DAY1)  # a retry of the same import takes it back
    with pytest.raises(SchoolBusy):
        lease.acquire("d1", "CTS", "import-b", DAY1 + timedelta(minutes=1))
    lease.acquire("d1", "CTS", "import-b", DAY1 + timedelta(minutes=17))  # a crashed holder's lease lapses
    lease.release("d1", "CTS", "import-a")  # not the holder any more: no effect
    with pytest.raises(SchoolBusy):
        lease.acquire("d1", "CTS", "import-c", DAY1 + timedelta(minutes=18))
    lease.release("d1", "CTS", "import-b")
    lease.acquire("d1", "CTS", "import-c", DAY1 + timedelta(minutes=18))


# ---------------------------------------------------------------- decisions too large for the API's 30 s
@pytest.fixture
def large_decisions(cloud, monkeypatch: pytest.MonkeyPatch):
    """Every approve and rollback counts as large: the API hands it to the importer."""
    from sis_imports import config
    from sis_imports.api.services import use_services

    monkeypatch.setenv("DECISION_INLINE_CHANGES", "0")
    config.settings.cache_clear()
    use_services(None)


def queued_work(cloud) -> dict:
    """The one work item on the school queue, as Lambda's SQS source would hand it to the importer."""
    from sis_imports.local.events import sqs_event

    url, arn = cloud.stack.refs["SchoolImportQueue"], cloud.stack.arns["SchoolImportQueue"]
    (message,) = cloud.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return sqs_event([message], arn)


def school_item(cloud) -> dict:
    return next(i for i in cloud.scan("SchoolsTable") if i["school_id"]["S"] == "CTS")


def test_a_large_approve_is_carried_out_by_the_importer_once(
    cloud, day1, tmp_path: Path, monkeypatch, large_decisions
):
    from sis_imports.local.lambdas import LambdaContext

    day2 = without_students(day1, 0.4)
    cloud.import_file(
        write_sloopy([day2], tmp_path / "d2.zip"), "uploads/d1/CTS/d2.zip", DAY1 + timedelta(days=1)
    )
    held = latest(cloud)
    assert held["status"] == "held"
    before = roster(cloud)

    code, body = decide(cloud, held["import_id"], "approve")
    assert code == 202 and body["status"] == "processing", body
    assert body["actions"][-1]["action"] == "approve" and body["actions"][-1]["role"] == "school_admin"
    assert roster(cloud) == before  # nothing is written until the importer carries it out
    assert school_item(cloud)["decision"]["M"]["action"]["S"] == "approve"
    assert decide(cloud, held["import_id"], "discard")[0] == 409  # it is no longer held

    importer = cloud.handler("ImporterFunction")
    work = queued_work(cloud)
    with dies_after(monkeypatch, batches=1), pytest.raises(TimeoutError):
        importer(work, LambdaContext("ImporterFunction"))  # killed mid-write; SQS delivers it again
    done = importer(work, LambdaContext("ImporterFunction"))
    assert done["imports"][0]["status"] == "succeeded"
    approved = latest(cloud)
    assert approved["status"] == "succeeded" and approved["counts"] == held["counts"]
    active = {i["sk"]["S"] for i in roster(cloud) if i["pk"]["S"].startswith("d1#") and i["active"]["BOOL"]}
    assert {sk for sk in active if sk.startswith("S#")} == {f"S#{s}" for s in day2.students}
    assert {sk for sk in active if sk.startswith("E#")} == {
        f"E#{enrollment_id(x, s)}" for x, s in day2.enrollments
    }
    assert "decision" not in school_item(cloud)
    # A delivery after it is done changes nothing.
    again = importer(work, LambdaContext("ImporterFunction"))
    assert (
        again["imports"][0]["duplicate"] is True and latest(cloud)["modified_at"] == approved["modified_at"]
    )


def test_a_large_rollback_is_carried_out_by_the_importer(cloud, day1, tmp_path: Path, large_decisions):
    before = {item["sk"]["S"]: item for item in roster(cloud)}
    day2 = next_day(day1, new_students=3, gone_students=2, class_changes=4, renamed_teachers=1)
    cloud.import_file(
        write_sloopy([day2], tmp_path / "d2.zip"), "uploads/d1/CTS/d2.zip", DAY1 + timedelta(days=1)
    )
    applied = latest(cloud)
    code, body = decide(cloud, applied["import_id"], "rollback")
    assert code == 202 and body["status"] == "processing", body
    cloud.drain_school_queue()
    rolled = latest(cloud)
    assert rolled["status"] == "rolled_back" and rolled["counts_after_rollback"]["students"]["active"] == 100
    assert {item["sk"]["S"]: item for item in roster(cloud)} == before


def test_one_decision_at_a_time_and_one_never_carried_out_is_withdrawn(
    cloud, day1, tmp_path: Path, large_decisions
):
    first = latest(cloud)
    held = hold_a_40_percent_drop(cloud, day1, tmp_path)
    assert decide(cloud, held["import_id"], "approve")[0] == 202
    code, body = decide(cloud, first["import_id"], "rollback")
    assert code == 409 and "another decision" in body["message"]

    # The work item is lost (say, dead-lettered): past the importer's timeout the checker withdraws it.
    from sis_imports.local.events import schedule_event

    later = datetime.now(UTC) + timedelta(hours=1)
    summary = cloud.invoke("CheckerFunction", schedule_event(later))
    assert summary["decisions_withdrawn"] == 1
    record = latest(cloud)
    assert record["status"] == "held" and record["actions"][-1]["outcome"].startswith("not carried out")
    assert "decision" not in school_item(cloud)
    # Should the lost item turn up after all, it is not carried out: it was withdrawn.
    cloud.drain_school_queue()
    assert latest(cloud)["status"] == "held"
    # And the administrator may decide again.
    assert decide(cloud, held["import_id"], "approve")[0] == 202


def test_a_work_item_for_a_busy_school_is_tried_again_in_minutes(
    cloud, day1, tmp_path: Path, monkeypatch, large_decisions
):
    """Not after the queue's 90-minute visibility timeout: another import holds the school only for now."""
    from sis_imports.importer import Importer
    from sis_imports.lease import SchoolBusy, SchoolLease
    from sis_imports.local.lambdas import LambdaContext

    held = hold_a_40_percent_drop(cloud, day1, tmp_path)
    assert decide(cloud, held["import_id"], "approve")[0] == 202
    work = queued_work(cloud)

    def busy(*_args, **_kwargs):
        raise SchoolBusy("school CTS is being imported by another upload")

    later: list[tuple[str, int]] = []
    monkeypatch.setattr(SchoolLease, "acquire", busy)
    monkeypatch.setattr(
        Importer, "retry_work_later", lambda self, handle, seconds: later.append((handle, seconds))
    )
    with pytest.raises(SchoolBusy):
        cloud.handler("ImporterFunction")(work, LambdaContext("ImporterFunction"))
    assert later == [(work["Records"][0]["receiptHandle"], 300)]
    assert latest(cloud)["status"] == "processing"  # still waiting, not given up
