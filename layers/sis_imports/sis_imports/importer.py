"""One S3 upload in, roster changes and one import record per school out.

The steps, and why they are in this order (docs/data-model.md has the full story):
1. The record is claimed with a conditional put, keyed by a deterministic import id: a
   repeated delivery of the same object version finds it and stops.
2. The upload is streamed to /tmp and parsed; a structural problem fails the record and
   leaves the roster untouched.
3. Blocking rules run before any roster write: year ended, last year's data, superseded.
4. The planned counts are saved on the record before the roster is written, so a retry
   after a crash reports the same counts an uninterrupted run would.
5. Roster writes are idempotent puts of only the changed items; then the school state and
   the record are finished.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from sis_imports.aws import Clients
from sis_imports.bulk import paused_gc
from sis_imports.calendar import SchoolCalendar
from sis_imports.config import Settings
from sis_imports.diff import plan_changes
from sis_imports.formats import ParsedUpload, read_upload
from sis_imports.formats.common import Scope
from sis_imports.formats.split import split_bundle
from sis_imports.issues import IssueLog
from sis_imports.lease import SchoolLease
from sis_imports.model import ENTITIES, UploadRejected
from sis_imports.notifications import AlertTopic, held_message
from sis_imports.observability import MetricUnit, logger, metrics, tracer
from sis_imports.records import (
    BLOCKED,
    BUNDLE_SCHOOL,
    FAILED,
    FINISHED,
    HELD,
    PROCESSING,
    SUCCEEDED,
    ImportRecords,
    make_import_id,
)
from sis_imports.roster_store import RosterStore
from sis_imports.safeguards import DEFAULT_HOLD_PERCENT, hold_reason
from sis_imports.schools import Schools, SchoolState, effective_calendar, effective_setting
from sis_imports.snapshot import SchoolSnapshot
from sis_imports.undo_log import UndoLog
from sis_imports.upload_keys import BadKey, scope_of

# On a record from the moment its counts are saved until it finishes: the roster is being written, and a
# retry must report the saved counts rather than judge a half-written roster again.
WRITING = "writing"
RECOMMENDED_WINDOW_END_HOUR = 6  # Sloopy should run between midnight and 6am school time
QUEUED = "queued"  # a district bundle's school, handed to its own invocation
WORK_PREFIX = "work/"


def work_key(district_id: str, import_id: str, school_id: str) -> str:
    """Where a district bundle's part for one school waits for its import (expires after a day)."""
    return f"{WORK_PREFIX}{district_id}/{import_id}/{school_id}.zip"


@dataclass(frozen=True)
class Upload:
    """An S3 object to import, as the event describes it (the key already URL-decoded)."""

    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int
    created_at: datetime  # when the upload arrived: the S3 event time

    @classmethod
    def from_source(cls, source: dict[str, Any], created_at: str) -> Upload:
        """The upload a record's (or a work item's) `source` and `created_at` describe."""
        return cls(
            source["bucket"],
            source["key"],
            source.get("version_id"),
            source.get("etag", ""),
            int(source.get("size", 0)),
            datetime.fromisoformat(created_at),
        )

    def source(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "etag": self.etag,
            "size": self.size,
        }


@dataclass
class SchoolResult:
    school_id: str
    import_id: str
    status: str
    duplicate: bool = False


class Importer:
    def __init__(self, settings: Settings, clients: Clients | None = None, lease_wait_seconds: float = 60.0):
        self.clients = clients or Clients()
        self.settings = settings
        self.records = ImportRecords(self.clients.dynamodb, settings.imports_table)
        self.schools = Schools(self.clients.dynamodb, settings.schools_table)
        self.roster = RosterStore(self.clients.dynamodb, settings.roster_table)
        self.undo = UndoLog(self.clients.s3, settings.upload_bucket)
        self.topic = AlertTopic(self.clients.sns, settings.alert_topic_arn)
        # A lease outlives the importer's timeout, so a crashed run's lease lapses before its retry ends.
        self.lease = SchoolLease(
            self.schools, timedelta(seconds=settings.importer_timeout_seconds + 60), lease_wait_seconds
        )

    # ------------------------------------------------------------------ upload
    @tracer.capture_method
    def run(self, upload: Upload) -> list[SchoolResult]:
        try:
            scope = scope_of(upload.key)
        except BadKey as exc:
            # No tenant can be named, so no record can be written: the log and metric are the trail.
            logger.error("upload ignored: bad key", extra={"reason": str(exc)})
            metrics.add_metric(name="UploadsWithBadKey", unit=MetricUnit.Count, value=1)
            return []
        import_id = make_import_id(
            upload.created_at, upload.bucket, upload.key, upload.version_id or upload.etag
        )
        logger.append_keys(import_id=import_id, district_id=scope.district_id)
        record_school = scope.school_id or BUNDLE_SCHOOL
        seen = self.records.get(scope.district_id, record_school, import_id)
        if seen and seen["status"] in (*FINISHED, HELD):
            logger.info("duplicate delivery ignored", extra={"status": seen["status"]})
            metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
            return [SchoolResult(record_school, import_id, seen["status"], duplicate=True)]
        started = time.monotonic()
        issues = IssueLog()
        if scope.school_id is None:
            results = self._split_bundle(scope, import_id, upload, issues)
        else:
            results = [
                self._import_upload(self.with_school_settings(scope), import_id, upload, upload, issues)
            ]
        metrics.add_metric(
            name="ImportDuration", unit=MetricUnit.Milliseconds, value=(time.monotonic() - started) * 1000
        )
        return results

    def run_school_part(self, work: dict[str, Any], local_part: Path | None = None) -> SchoolResult:
        """One school of a district bundle, from its work item: the part's rows, the bundle's record fields.
        The part is read from S3, or from `local_part` when the bundle's own invocation imports it."""
        district_id, school_id, import_id = work["district_id"], work["school_id"], work["import_id"]
        logger.append_keys(import_id=import_id, district_id=district_id)
        upload = Upload.from_source(work["source"], work["created_at"])
        part = local_part or Upload(upload.bucket, work["part_key"], None, "", 0, upload.created_at)
        scope = self.with_school_settings(Scope(district_id, school_id))
        return self._import_upload(scope, import_id, upload, part, IssueLog())

    def retry_work_later(self, receipt_handle: str, seconds: int) -> None:
        """Makes a work item that could not be done yet visible again on the queue after `seconds`."""
        self.clients.sqs.change_message_visibility(
            QueueUrl=self.settings.school_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def _import_upload(
        self, scope: Scope, import_id: str, upload: Upload, content: Upload | Path, issues: IssueLog
    ) -> SchoolResult:
        """Imports one school's upload; `content` is where its bytes are: the upload itself, a part in
        S3, or a part in /tmp."""
        try:
            if isinstance(content, Path):
                parsed = self._parse_part(content, scope, issues)
            else:
                parsed = self.download_and_parse(content, scope, issues)
        except UploadRejected as exc:
            logger.warning("upload refused", extra={"code": exc.code, "reason": exc.message})
            issues.error(exc.file, exc.line, exc.code, exc.message)
            return self._refuse(scope, import_id, upload, exc, issues)
        metrics.add_metric(name="RowsRead", unit=MetricUnit.Count, value=sum(parsed.file_rows.values()))
        assert scope.school_id is not None  # noqa: S101 - a school's upload
        snapshot = parsed.schools[scope.school_id]
        return self._import_school(
            scope.district_id, scope.school_id, snapshot, parsed, upload, import_id, issues
        )

    @tracer.capture_method
    def _split_bundle(
        self, scope: Scope, import_id: str, upload: Upload, issues: IssueLog
    ) -> list[SchoolResult]:
        """Splits a district bundle by school in one streaming pass, then imports each school on its own:
        a work item per school on the queue (each its own Lambda) when the bundle is large, or else
        here, one school at a time (a small district gains nothing from fanning out)."""
        self.records.claim(self._base_record(scope.district_id, BUNDLE_SCHOOL, import_id, upload, None))
        with tempfile.TemporaryDirectory(prefix="bundle-") as folder:
            bundle = Path(folder) / "bundle.zip"
            try:
                self._download(upload, bundle)
                format_name, parts = split_bundle(bundle, scope.district_id, Path(folder) / "parts", issues)
            except UploadRejected as exc:
                logger.warning("upload refused", extra={"code": exc.code, "reason": exc.message})
                issues.error(exc.file, exc.line, exc.code, exc.message)
                return [self._refuse(scope, import_id, upload, exc, issues)]
            bundle.unlink()
            size = sum(part.stat().st_size for part in parts.values())
            fan_out = bool(self.settings.school_queue_url) and size > self.settings.bundle_fan_out_bytes
            results = [
                self._dispatch(scope.district_id, school_id, part, import_id, upload, format_name, fan_out)
                for school_id, part in parts.items()
            ]
        self.records.update(
            scope.district_id,
            BUNDLE_SCHOOL,
            import_id,
            {
                "status": SUCCEEDED,
                "modified_at": _now(upload),
                "format": format_name,
                "schools": {result.school_id: result.status for result in results},
                **issues.for_school(None),
            },
        )
        return results

    def _dispatch(
        self,
        district_id: str,
        school_id: str,
        part: Path,
        import_id: str,
        upload: Upload,
        format_name: str,
        fan_out: bool,
    ) -> SchoolResult:
        # The school's record and "newest upload" exist from now on, so its history shows the upload at
        # once and, should the work item never be processed, the checker fails the record with a reason.
        state, district = self.schools.get(district_id, school_id)
        calendar = effective_calendar(state, district)
        self.records.claim(
            self._base_record(district_id, school_id, import_id, upload, calendar, format_name)
        )
        self._mark_seen(state or SchoolState(district_id, school_id), import_id, upload)
        work = {
            "district_id": district_id,
            "school_id": school_id,
            "import_id": import_id,
            "created_at": upload.created_at.isoformat(),
            "source": upload.source(),
            "part_key": work_key(district_id, import_id, school_id),
        }
        if not fan_out:
            # Here, one school at a time, so memory holds one school; the part is read where it lies.
            return self.run_school_part(work, part)
        self.clients.s3.upload_file(str(part), upload.bucket, work["part_key"])
        self.clients.sqs.send_message(QueueUrl=self.settings.school_queue_url, MessageBody=json.dumps(work))
        return SchoolResult(school_id, import_id, QUEUED)

    def with_school_settings(self, scope: Scope) -> Scope:
        if scope.school_id is None:
            return scope
        state, _ = self.schools.get(scope.district_id, scope.school_id)
        prefix = (state.settings or {}).get("sloopy_data_prefix") if state else None
        return Scope(scope.district_id, scope.school_id, prefix) if prefix else scope

    @tracer.capture_method
    def download_and_parse(self, upload: Upload, scope: Scope, issues: IssueLog) -> ParsedUpload:
        with tempfile.TemporaryDirectory(prefix="upload-") as folder:
            path = Path(folder) / "upload.zip"
            self._download(upload, path)
            return read_upload(path, scope, issues)

    @tracer.capture_method
    def _parse_part(self, part: Path, scope: Scope, issues: IssueLog) -> ParsedUpload:
        return read_upload(part, scope, issues)

    def _download(self, upload: Upload, path: Path) -> None:
        extra = {"VersionId": upload.version_id} if upload.version_id else None
        try:
            with path.open("wb") as sink:
                # Streams to /tmp in parts: the upload is never held in memory.
                self.clients.s3.download_fileobj(upload.bucket, upload.key, sink, ExtraArgs=extra)
        except ClientError as exc:
            # Without s3:ListBucket, S3 answers 403 rather than 404 for an object that is not there.
            if exc.response["Error"]["Code"] not in (
                "403",
                "404",
                "NoSuchKey",
                "NoSuchVersion",
                "AccessDenied",
            ):
                raise
            raise UploadRejected(
                "upload_missing",
                "The upload cannot be read from the bucket: it is gone (uploads are deleted after "
                "UploadRetentionDays days; send the export again), or the importer may not read it.",
            ) from exc

    def _refuse(
        self, scope: Scope, import_id: str, upload: Upload, exc: UploadRejected, issues: IssueLog
    ) -> SchoolResult:
        school_id = scope.school_id or BUNDLE_SCHOOL
        self.records.claim(self._base_record(scope.district_id, school_id, import_id, upload, None))
        self._finish(
            scope.district_id,
            school_id,
            import_id,
            upload,
            FAILED,
            reason=exc.message,
            extra=issues.for_school(None),
        )
        metrics.add_metric(name="ImportsFailed", unit=MetricUnit.Count, value=1)
        return SchoolResult(school_id, import_id, FAILED)

    # ------------------------------------------------------------------ school
    @tracer.capture_method
    def _import_school(
        self,
        district_id: str,
        school_id: str,
        snapshot: SchoolSnapshot,
        parsed: ParsedUpload,
        upload: Upload,
        import_id: str,
        issues: IssueLog,
    ) -> SchoolResult:
        state, district = self.schools.get(district_id, school_id)
        calendar = effective_calendar(state, district)
        existing = self.records.claim(
            self._base_record(district_id, school_id, import_id, upload, calendar, parsed.format)
        )
        if existing and existing["status"] != PROCESSING:
            return SchoolResult(school_id, import_id, existing["status"], duplicate=True)
        extra = {"file_rows": parsed.file_rows, **issues.for_school(school_id)}
        saved_counts = (existing or {}).get("counts")
        return self.apply(
            district_id, school_id, snapshot, upload, import_id, extra, saved_counts, approval=None
        )

    def apply(
        self,
        district_id: str,
        school_id: str,
        snapshot: SchoolSnapshot,
        upload: Upload,
        import_id: str,
        extra: dict[str, Any],
        saved_counts: dict[str, Any] | None,
        approval: dict[str, Any] | None,
    ) -> SchoolResult:
        """Applies one school's snapshot under the school's lease; every decision reads fresh state."""
        logger.append_keys(school_id=school_id)
        self.lease.acquire(district_id, school_id, import_id, datetime.now(UTC))
        try:
            state, district = self.schools.get(district_id, school_id)
            state = state or SchoolState(district_id, school_id)
            calendar = effective_calendar(state, district)
            state = self.schools.roll_over_if_new_year(state, calendar)
            self._mark_seen(state, import_id, upload)
            extra = {**extra, "school_year": calendar.school_year if calendar else None}

            reason = self._blocked_reason(state, calendar, snapshot, upload)
            if reason:
                self._finish(
                    district_id,
                    school_id,
                    import_id,
                    upload,
                    BLOCKED,
                    reason=reason,
                    extra={**extra, "counts": state.counts},
                )
                metrics.add_metric(name="ImportsBlocked", unit=MetricUnit.Count, value=1)
                return SchoolResult(school_id, import_id, BLOCKED)

            with paused_gc():
                stored = self.roster.load(district_id, school_id, state.generation)
                plan = plan_changes(stored, snapshot, import_id)
            # Saved counts mean an earlier attempt of this import already decided to apply it and may
            # have written part of it; judged again against that half-written roster, it could be held.
            if approval is None and not saved_counts:
                threshold = effective_setting(state, district, "hold_threshold_percent")
                held = hold_reason(
                    stored, plan, DEFAULT_HOLD_PERCENT if threshold is None else float(threshold)
                )
                if held:
                    return self._hold(
                        district_id,
                        school_id,
                        import_id,
                        upload,
                        held,
                        {**extra, "counts": plan.counts_dict()},
                    )

            counts = saved_counts or plan.counts_dict()
            if not saved_counts:
                # Saved before writing: a retry after a crash reports these, not the remainder's.
                self.records.update(district_id, school_id, import_id, {"counts": counts, WRITING: True})
            self.undo.save(district_id, school_id, import_id, plan.changes())
            written = self.roster.write(district_id, school_id, state.generation, plan.changes(), import_id)
            metrics.add_metric(name="RosterItemsWritten", unit=MetricUnit.Count, value=written.items)
            logger.info(
                "roster updated", extra={"items_written": written.items, "write_requests": written.requests}
            )

            content_hash = snapshot.content_hash()
            self.schools.update(
                district_id,
                school_id,
                {
                    "last_succeeded_at": upload.created_at.isoformat(),
                    "last_applied_at": upload.created_at.isoformat(),
                    "last_applied_import_id": import_id,
                    "content_hash": content_hash,
                    "counts": counts,
                },
                condition=(
                    "attribute_not_exists(last_applied_at) OR last_applied_at <= :t",
                    {},
                    {":t": {"S": upload.created_at.isoformat()}},
                ),
            )
            self._finish(
                district_id,
                school_id,
                import_id,
                upload,
                SUCCEEDED,
                extra={**extra, "counts": counts, "content_hash": content_hash},
            )
            metrics.add_metric(name="ImportsSucceeded", unit=MetricUnit.Count, value=1)
            return SchoolResult(school_id, import_id, SUCCEEDED)
        finally:
            self.lease.release(district_id, school_id, import_id)

    def _hold(
        self,
        district_id: str,
        school_id: str,
        import_id: str,
        upload: Upload,
        reason: str,
        extra: dict[str, Any],
    ) -> SchoolResult:
        self._finish(district_id, school_id, import_id, upload, HELD, reason=reason, extra=extra)
        metrics.add_metric(name="ImportsHeld", unit=MetricUnit.Count, value=1)
        self.topic.publish(
            district_id, school_id, "held", *held_message(district_id, school_id, import_id, reason)
        )
        return SchoolResult(school_id, import_id, HELD)

    def _blocked_reason(
        self, state: SchoolState, calendar: SchoolCalendar | None, snapshot: SchoolSnapshot, upload: Upload
    ) -> str | None:
        if calendar and calendar.local_date(upload.created_at) > calendar.last_day:
            return (
                f"The {calendar.school_year} school year ended on {calendar.last_day.isoformat()}. Imports "
                "resume once a calendar for the next school year is set."
            )
        if state.previous_year_hash and snapshot.content_hash() == state.previous_year_hash:
            return (
                "This is last year's data: it is identical to the last import of the previous school "
                "year. Check that the SIS has been rolled over to the new year."
            )
        if state.last_applied_at and upload.created_at.isoformat() < state.last_applied_at:
            return (
                "A newer upload has already been applied; this older one is recorded but does not "
                "roll the roster back."
            )
        return None

    # ------------------------------------------------------------------ records
    def _base_record(
        self,
        district_id: str,
        school_id: str,
        import_id: str,
        upload: Upload,
        calendar: SchoolCalendar | None,
        format_name: str | None = None,
    ) -> dict[str, Any]:
        zone = calendar.zone if calendar else UTC
        return {
            "import_id": import_id,
            "district_id": district_id,
            "school_id": school_id,
            "status": PROCESSING,
            "created_at": upload.created_at.isoformat(),
            "modified_at": _now(upload),
            "format": format_name,
            "source": upload.source(),
            "in_recommended_window": upload.created_at.astimezone(zone).hour < RECOMMENDED_WINDOW_END_HOUR,
            "counts": None,
        }

    def _mark_seen(self, state: SchoolState, import_id: str, upload: Upload) -> None:
        """Points the school at its newest upload; an older upload never moves it back."""
        at = upload.created_at.isoformat()
        self.schools.update(
            state.district_id,
            state.school_id,
            {
                "last_import_id": import_id,
                "last_import_at": at,
                "last_upload_status": PROCESSING,
                "processing_since": _now(upload),
            },
            condition=("attribute_not_exists(last_import_at) OR last_import_at <= :t", {}, {":t": {"S": at}}),
        )

    def _finish(
        self,
        district_id: str,
        school_id: str,
        import_id: str,
        upload: Upload,
        status: str,
        *,
        reason: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        fields = {
            "status": status,
            "modified_at": _now(upload),
            "reason": reason,
            WRITING: None,
            **(extra or {}),
        }
        self.records.update(district_id, school_id, import_id, fields)
        if school_id != BUNDLE_SCHOOL:
            self.schools.update(
                district_id,
                school_id,
                {"last_upload_status": status, "processing_since": None},
                condition=("last_import_id = :id", {}, {":id": {"S": import_id}}),
            )
        logger.info("import finished", extra={"status": status, "school_id": school_id, "reason": reason})


def _now(upload: Upload) -> str:
    # Never earlier than the arrival time, even under a clock set back for a test.
    return max(datetime.now(UTC), upload.created_at).isoformat()


def empty_counts() -> dict[str, dict[str, int]]:
    return {entity: {"total": 0, "new": 0, "dropped": 0, "active": 0} for entity in ENTITIES}
