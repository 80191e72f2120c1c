"""What an import changed, kept so that it can be rolled back exactly.

Before writing a school's roster, the importer stores every change's before-image (or "did
not exist") as gzipped JSON lines in S3, at rollback/<district>/<school>/<import id>.jsonl.gz.
S3 rather than DynamoDB keeps nightly roster writes at the minimum: an undo item per change
would double them. The object is written once, with a conditional put: a retry after a crash must
not replace the true before-images with those of a half-written roster. (A conditional put rather
than a HEAD first: without s3:ListBucket, which the importer is not given, S3 answers a HEAD of a
missing object with 403, not 404.)
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from sis_imports.diff import Change, StoredRecord

PREFIX = "rollback/"


class UndoLogMissing(LookupError):
    pass


def undo_key(district_id: str, school_id: str, import_id: str) -> str:
    return f"{PREFIX}{district_id}/{school_id}/{import_id}.jsonl.gz"


class UndoLog:
    def __init__(self, s3: Any, bucket: str | None):
        self._s3 = s3
        self._bucket = bucket

    def save(self, district_id: str, school_id: str, import_id: str, changes: Iterable[Change]) -> None:
        if not self._bucket:
            raise RuntimeError("UPLOAD_BUCKET is not set; the template sets it for this function")
        key = undo_key(district_id, school_id, import_id)
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb") as sink:
            for change in changes:
                before = change.before
                line = [
                    change.entity,
                    change.record_id,
                    None
                    if before is None
                    else [list(before.values), before.active, before.since, before.changed_by],
                ]
                sink.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=buffer.getvalue(),
                ContentType="application/x-ndjson",
                ContentEncoding="gzip",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            # Written by an earlier, interrupted run of this import: keep its true before-images.
            if exc.response["Error"]["Code"] not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise

    def load(
        self, district_id: str, school_id: str, import_id: str
    ) -> Iterator[tuple[str, str, StoredRecord | None]]:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=undo_key(district_id, school_id, import_id))[
                "Body"
            ]
        except ClientError as exc:
            raise UndoLogMissing(
                "the record of what this import changed is gone (it expires with the "
                "uploads); it can no longer be rolled back"
            ) from exc
        with gzip.GzipFile(fileobj=io.BytesIO(body.read())) as source:
            for raw in source:
                entity, record_id, before = json.loads(raw)
                yield (
                    entity,
                    record_id,
                    None if before is None else StoredRecord(tuple(before[0]), *before[1:4]),
                )
