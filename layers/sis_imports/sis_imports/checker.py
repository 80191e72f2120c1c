"""The scheduled checker: evaluates every school's alert, notifies once per change, and fails
imports left `processing` past the importer's timeout.

Schools are read a Scan page at a time, never with a call per school. Within a district's
partition items come in sort-key order and the district item ("#district") sorts first, so
each district's default calendar is seen before its schools without any extra read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sis_imports.alerts import OK, STALE, evaluate
from sis_imports.aws import Clients
from sis_imports.config import Settings
from sis_imports.dynamo import from_item
from sis_imports.notifications import AlertTopic, recovered_message, stale_message
from sis_imports.observability import logger
from sis_imports.records import FAILED, PROCESSING, ImportRecords
from sis_imports.schools import DISTRICT_ITEM, Schools, SchoolState, effective_calendar, parse_time

# Margin past the importer's timeout before a processing record is declared abandoned.
ABANDON_MARGIN = timedelta(minutes=5)


@dataclass
class CheckSummary:
    schools: int = 0
    pages: int = 0
    stale: int = 0
    notified_stale: int = 0
    notified_recovered: int = 0
    abandoned_failed: int = 0
    decisions_withdrawn: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class Checker:
    def __init__(self, settings: Settings, clients: Clients | None = None):
        self.clients = clients or Clients()
        self.settings = settings
        self.schools = Schools(self.clients.dynamodb, settings.schools_table)
        self.records = ImportRecords(self.clients.dynamodb, settings.imports_table)
        self.topic = AlertTopic(self.clients.sns, settings.alert_topic_arn)

    def run(self, now: datetime) -> CheckSummary:
        summary = CheckSummary()
        district_id, district = None, None
        for page in self.schools.pages():
            summary.pages += 1
            for item in page:
                if item["district_id"]["S"] != district_id:
                    district_id, district = item["district_id"]["S"], None
                if item["school_id"]["S"] == DISTRICT_ITEM:
                    district = from_item(item)
                    continue
                summary.schools += 1
                self._check_school(SchoolState.from_item(item), district, now, summary)
        logger.info("check finished", extra=summary.as_dict())
        return summary

    def _check_school(
        self,
        state: SchoolState,
        district: dict[str, Any] | None,
        now: datetime,
        summary: CheckSummary,
    ) -> None:
        self._fail_if_abandoned(state, now, summary)
        self._withdraw_if_abandoned(state, now, summary)
        status = evaluate(
            now,
            district_id=state.district_id,
            school_id=state.school_id,
            last_succeeded_at=parse_time(state.last_succeeded_at),
            last_upload_status=state.last_upload_status,
            calendar=effective_calendar(state, district),
        )
        summary.stale += status.status == STALE
        previous = state.alert or {}
        was_open = bool(previous.get("open"))
        # "open" means a stale message went out and no recovery message has followed yet.
        now_open = True if status.status == STALE else (False if status.status == OK else was_open)
        if previous.get("status") == status.status and now_open == was_open:
            return
        alert = {"status": status.status, "open": now_open, "since": now.isoformat(), "reason": status.reason}
        if not self._swap_alert(state, previous, alert):
            return  # another run got there first and sent what was due
        try:
            if now_open and not was_open:
                self.topic.publish(state.district_id, state.school_id, "stale", *stale_message(status))
                summary.notified_stale += 1
            elif was_open and not now_open:
                self.topic.publish(
                    state.district_id, state.school_id, "recovered", *recovered_message(status)
                )
                summary.notified_recovered += 1
        except Exception:
            self._swap_alert(state, alert, previous)  # let the next run try again
            raise

    def _swap_alert(self, state: SchoolState, expected: dict[str, Any], alert: dict[str, Any]) -> bool:
        if expected:
            condition = (
                "alert.#status = :old_status AND alert.#open = :old_open",
                {"#status": "status", "#open": "open"},
                {":old_status": {"S": expected["status"]}, ":old_open": {"BOOL": bool(expected.get("open"))}},
            )
        else:
            condition = ("attribute_not_exists(alert)", {}, {})
        return self.schools.update(state.district_id, state.school_id, {"alert": alert}, condition=condition)

    def _fail_if_abandoned(self, state: SchoolState, now: datetime, summary: CheckSummary) -> None:
        started = parse_time(state.processing_since)
        if state.last_upload_status != PROCESSING or started is None or state.last_import_id is None:
            return
        if now - started < timedelta(seconds=self.settings.importer_timeout_seconds) + ABANDON_MARGIN:
            return
        reason = (
            "The import stopped before it finished (a timeout or crash) and no retry completed it. The "
            "roster may hold part of this upload; upload the export again to finish it."
        )
        if self.records.update(
            state.district_id,
            state.school_id,
            state.last_import_id,
            {"status": FAILED, "reason": reason, "modified_at": now.isoformat()},
            expected_status=PROCESSING,
        ):
            summary.abandoned_failed += 1
            logger.warning(
                "abandoned import marked failed",
                extra={"school_id": state.school_id, "import_id": state.last_import_id},
            )
        self.schools.update(
            state.district_id,
            state.school_id,
            {"last_upload_status": FAILED, "processing_since": None},
            condition=("last_import_id = :id", {}, {":id": {"S": state.last_import_id}}),
        )
        state.last_upload_status = FAILED

    def _withdraw_if_abandoned(self, state: SchoolState, now: datetime, summary: CheckSummary) -> None:
        """An approve or rollback the importer never carried out: its record goes back as it was."""
        waiting = state.decision
        since = parse_time((waiting or {}).get("since"))
        if not waiting or since is None:
            return
        if now - since < timedelta(seconds=self.settings.importer_timeout_seconds) + ABANDON_MARGIN:
            return
        # Rare, so the decisions module (and the importer it needs) is loaded only now.
        from sis_imports.decisions import withdraw  # noqa: PLC0415

        withdraw(
            self.records,
            self.schools,
            state.district_id,
            state.school_id,
            waiting,
            "not carried out: the importer did not finish it in time; ask again",
        )
        state.decision = None
        summary.decisions_withdrawn += 1
