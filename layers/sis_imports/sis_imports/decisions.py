"""An administrator's decisions on one import: approve a held import, discard it, or roll back the
school's latest applied import. Each is recorded on the import record: who, when, what.

Discard changes no roster and is done at once. Approve and rollback rewrite a school's roster: a
small one (up to `decision_inline_changes` records) is done within the request; a larger one is
handed to the importer as a work item on the school queue, with the importer's timeout, retries
and dead-letter queue, and the record shows `processing` meanwhile. The school carries the waiting
decision (one at a time); the importer clears it when done, and the checker puts the record back
as it was if the decision is never carried out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sis_imports.importer import WRITING, Importer, SchoolResult, Upload
from sis_imports.issues import IssueLog
from sis_imports.model import UploadRejected
from sis_imports.observability import logger
from sis_imports.records import (
    DISCARDED,
    HELD,
    PROCESSING,
    ROLLED_BACK,
    SUCCEEDED,
    DecisionRefused,
    ImportRecords,
    RecordNotFound,
)
from sis_imports.roster_store import tally
from sis_imports.schools import Schools
from sis_imports.undo_log import UndoLogMissing
from sis_imports.upload_keys import scope_of

APPROVE = "approve"
DISCARD = "discard"
ROLLBACK = "rollback"


@dataclass
class Outcome:
    record: dict[str, Any]
    queued: bool  # handed to the importer; the record shows `processing` until it is done


class Decisions:
    def __init__(self, importer: Importer):
        self.importer = importer
        self.records = importer.records
        self.schools = importer.schools
        self.settings = importer.settings

    # ------------------------------------------------------------------ requests
    def approve(self, district_id: str, school_id: str, import_id: str, actor: dict[str, Any]) -> Outcome:
        """Applies a held import as it stands in its upload, past the mass-change hold."""
        record = self._decidable(district_id, school_id, import_id, HELD, "approved")
        planned = sum(c["new"] + c["dropped"] for c in (record.get("counts") or {}).values())
        if self._queued(planned):
            return self._queue(APPROVE, district_id, school_id, record, actor, HELD)
        self._approve(district_id, school_id, record, actor)
        return Outcome(self._get(district_id, school_id, import_id), queued=False)

    def discard(self, district_id: str, school_id: str, import_id: str, actor: dict[str, Any]) -> Outcome:
        """Drops a held import; the roster stays as it was."""
        record = self._decidable(district_id, school_id, import_id, HELD, "discarded")
        self._record_action(district_id, school_id, record, DISCARD, actor, DISCARDED, HELD)
        self.schools.update(
            district_id,
            school_id,
            {"last_upload_status": DISCARDED},
            condition=("last_import_id = :id", {}, {":id": {"S": import_id}}),
        )
        return Outcome(self._get(district_id, school_id, import_id), queued=False)

    def rollback(self, district_id: str, school_id: str, import_id: str, actor: dict[str, Any]) -> Outcome:
        """Restores the roster exactly as it was before the school's most recent applied import."""
        record = self._decidable(district_id, school_id, import_id, SUCCEEDED, "rolled back")
        self._latest_applied(district_id, school_id, import_id)
        entries = list(self.importer.undo.load(district_id, school_id, import_id))
        if self._queued(len(entries)):
            return self._queue(ROLLBACK, district_id, school_id, record, actor, SUCCEEDED)
        self._rollback(district_id, school_id, record, actor, entries)
        return Outcome(self._get(district_id, school_id, import_id), queued=False)

    # ------------------------------------------------------------------ the importer's side
    def carry_out(self, work: dict[str, Any]) -> SchoolResult:
        """A decision from the school queue. Done once: a repeated or withdrawn one is skipped."""
        district_id, school_id, import_id = work["district_id"], work["school_id"], work["import_id"]
        action = work["decision"]
        logger.append_keys(import_id=import_id, district_id=district_id, school_id=school_id)
        state, _ = self.schools.get(district_id, school_id)
        waiting = (state.decision if state else None) or {}
        record = self._get(district_id, school_id, import_id)
        if waiting.get("import_id") != import_id or waiting.get("action") != action:
            logger.info("decision already carried out or withdrawn", extra={"action": action})
            return SchoolResult(school_id, import_id, record["status"], duplicate=True)
        try:
            if action == APPROVE:
                self._approve(district_id, school_id, record, None)
            else:
                entries = list(self.importer.undo.load(district_id, school_id, import_id))
                self._rollback(district_id, school_id, record, None, entries)
        except (DecisionRefused, UploadRejected, UndoLogMissing, RecordNotFound) as exc:
            # It can no longer be done (the upload or undo log expired, a newer import came first):
            # the record goes back as it was, saying why. Anything else is retried from the queue.
            message = exc.message if isinstance(exc, UploadRejected) else str(exc)
            withdraw(
                self.records, self.schools, district_id, school_id, waiting, f"not carried out: {message}"
            )
        self.schools.end_decision(district_id, school_id, import_id)
        return SchoolResult(school_id, import_id, self._get(district_id, school_id, import_id)["status"])

    # ------------------------------------------------------------------ the work
    def _approve(
        self, district_id: str, school_id: str, record: dict[str, Any], actor: dict[str, Any] | None
    ) -> None:
        """Applies the held upload. `actor` is None when the importer carries out a recorded decision."""
        import_id = record["import_id"]
        upload = Upload.from_source(record["source"], record["created_at"])
        issues = IssueLog()
        scope = self.importer.with_school_settings(scope_of(upload.key))
        parsed = self.importer.download_and_parse(upload, scope, issues)
        snapshot = parsed.schools.get(school_id)
        if snapshot is None:
            raise DecisionRefused(f"the upload no longer holds school {school_id}")
        if actor is not None:
            self._record_action(district_id, school_id, record, APPROVE, actor, PROCESSING, HELD)
        extra = {"file_rows": parsed.file_rows, **issues.for_school(school_id)}
        # A retry after a crash mid-write reports the counts saved before writing began.
        saved = record.get("counts") if record.get(WRITING) else None
        approval = actor or record.get("actions", [{}])[-1]
        self.importer.apply(district_id, school_id, snapshot, upload, import_id, extra, saved, approval)

    def _rollback(
        self,
        district_id: str,
        school_id: str,
        record: dict[str, Any],
        actor: dict[str, Any] | None,
        entries: list[Any],
    ) -> None:
        """Puts back the before-images. Done again after a crash, it puts back the same ones."""
        import_id = record["import_id"]
        holder = f"rollback-{import_id}"
        importer = self.importer
        importer.lease.acquire(district_id, school_id, holder, datetime.now(UTC))
        try:
            state = self._latest_applied(district_id, school_id, import_id)
            importer.roster.restore(district_id, school_id, state.generation, entries, holder)
            counts = tally(importer.roster.load(district_id, school_id, state.generation))
            # The roster is the previous import's again: nothing newer to undo, nothing "identical" to skip.
            self.schools.update(
                district_id,
                school_id,
                {
                    "last_applied_import_id": None,
                    "content_hash": None,
                    "counts": counts,
                    "last_upload_status": ROLLED_BACK,
                },
            )
            extra = {"counts_after_rollback": counts}
            if actor is not None:
                self._record_action(
                    district_id, school_id, record, ROLLBACK, actor, ROLLED_BACK, SUCCEEDED, extra
                )
            else:
                now = datetime.now(UTC).isoformat()
                fields = {"status": ROLLED_BACK, "modified_at": now, **extra}
                self.records.update(district_id, school_id, import_id, fields, expected_status=PROCESSING)
        finally:
            importer.lease.release(district_id, school_id, holder)

    # ------------------------------------------------------------------ handing over
    def _queued(self, changes: int) -> bool:
        return bool(self.settings.school_queue_url) and changes > self.settings.decision_inline_changes

    def _queue(
        self,
        action: str,
        district_id: str,
        school_id: str,
        record: dict[str, Any],
        actor: dict[str, Any],
        previous_status: str,
    ) -> Outcome:
        import_id = record["import_id"]
        waiting = {
            "import_id": import_id,
            "action": action,
            "previous_status": previous_status,
            "since": datetime.now(UTC).isoformat(),
        }
        if not self.schools.begin_decision(district_id, school_id, waiting):
            raise DecisionRefused(
                "another decision on this school is still being carried out; try again when it is done"
            )
        try:
            self._record_action(district_id, school_id, record, action, actor, PROCESSING, previous_status)
        except DecisionRefused:
            self.schools.end_decision(district_id, school_id, import_id)
            raise
        work = {
            "decision": action,
            "district_id": district_id,
            "school_id": school_id,
            "import_id": import_id,
        }
        try:
            self.importer.clients.sqs.send_message(
                QueueUrl=self.settings.school_queue_url, MessageBody=json.dumps(work)
            )
        except Exception:
            withdraw(
                self.records,
                self.schools,
                district_id,
                school_id,
                waiting,
                "not carried out: it could not be queued",
            )
            raise
        logger.info("decision queued for the importer", extra={"action": action, "import_id": import_id})
        return Outcome(self._get(district_id, school_id, import_id), queued=True)

    # ------------------------------------------------------------------ records
    def _latest_applied(self, district_id: str, school_id: str, import_id: str) -> Any:
        state, _ = self.schools.get(district_id, school_id)
        if state is None or state.last_applied_import_id != import_id:
            raise DecisionRefused("only the school's most recent applied import can be rolled back")
        return state

    def _get(self, district_id: str, school_id: str, import_id: str) -> dict[str, Any]:
        record = self.records.get(district_id, school_id, import_id)
        if record is None:
            raise RecordNotFound(f"no import {import_id[:64]} for this school")
        return record

    def _decidable(
        self, district_id: str, school_id: str, import_id: str, status: str, verb: str
    ) -> dict[str, Any]:
        record = self._get(district_id, school_id, import_id)
        if record["status"] != status:
            raise DecisionRefused(f"this import is {record['status']}; only a {status} import can be {verb}")
        return record

    def _record_action(
        self,
        district_id: str,
        school_id: str,
        record: dict[str, Any],
        action: str,
        actor: dict[str, Any],
        status: str,
        expected: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        import_id = record["import_id"]
        now = datetime.now(UTC).isoformat()
        actions = [*record.get("actions", []), {"action": action, "at": now, **actor}]
        fields = {"status": status, "modified_at": now, "actions": actions, **(extra or {})}
        if not self.records.update(district_id, school_id, import_id, fields, expected_status=expected):
            raise DecisionRefused("someone else decided on this import at the same moment; reload it")
        logger.info(
            "import decision",
            extra={"action": action, "school_id": school_id, "import_id": import_id, "by": actor.get("by")},
        )


def withdraw(
    records: ImportRecords,
    schools: Schools,
    district_id: str,
    school_id: str,
    waiting: dict[str, Any],
    outcome: str,
) -> None:
    """A decision that will not be carried out: its record goes back as it was, saying why."""
    import_id = waiting["import_id"]
    record = records.get(district_id, school_id, import_id)
    if record is not None:
        now = datetime.now(UTC).isoformat()
        actions = [*record.get("actions", []), {"action": waiting["action"], "at": now, "outcome": outcome}]
        records.update(
            district_id,
            school_id,
            import_id,
            {"status": waiting["previous_status"], "modified_at": now, "actions": actions},
            expected_status=PROCESSING,
        )
    schools.end_decision(district_id, school_id, import_id)
    logger.warning("decision not carried out", extra={"import_id": import_id, "outcome": outcome})
