"""Import records: one per school per upload, newest first.

Layout (docs/data-model.md): pk = "<district>#<school>", sk = import id. An import id
starts with the upload's arrival time, so a descending query is the history, newest first.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from sis_imports.dynamo import from_item, to_item, update_expression

PROCESSING = "processing"
SUCCEEDED = "succeeded"
FAILED = "failed"
BLOCKED = "blocked"
HELD = "held"
# After a decision by an administrator (issue #6): a held import discarded, an applied one rolled back.
DISCARDED = "discarded"
ROLLED_BACK = "rolled_back"
STATUSES = (PROCESSING, SUCCEEDED, FAILED, BLOCKED, HELD, DISCARDED, ROLLED_BACK)
FINISHED = (SUCCEEDED, FAILED, BLOCKED, DISCARDED, ROLLED_BACK)

IMPORT_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{10}$")
# A district bundle's own record (for failures before any school is known) lives under this name.
BUNDLE_SCHOOL = "_bundle"


class BadCursor(ValueError):
    pass


class RecordNotFound(LookupError):
    pass


class DecisionRefused(Exception):
    """An approve, discard or rollback that does not apply to the import as it stands (HTTP 409)."""


def make_import_id(created_at: datetime, bucket: str, key: str, version: str) -> str:
    """Deterministic, so a repeated delivery of one object version maps to the same record."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{version}".encode()).hexdigest()[:10]
    return f"{created_at:%Y%m%dT%H%M%S%f}Z-{digest}"


def record_key(district_id: str, school_id: str, import_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"{district_id}#{school_id}"}, "sk": {"S": import_id}}


class ImportRecords:
    def __init__(self, client: Any, table: str):
        self._client = client
        self._table = table

    def claim(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """Creates the record; returns the existing one instead if this import was seen before."""
        item = to_item(
            {"pk": f"{record['district_id']}#{record['school_id']}", "sk": record["import_id"], **record}
        )
        try:
            self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
            return None
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        return self.get(record["district_id"], record["school_id"], record["import_id"])

    def get(self, district_id: str, school_id: str, import_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=record_key(district_id, school_id, import_id), ConsistentRead=True
        )
        item = response.get("Item")
        return _public(from_item(item)) if item else None

    def update(
        self,
        district_id: str,
        school_id: str,
        import_id: str,
        fields: dict[str, Any],
        *,
        expected_status: str | None = None,
    ) -> bool:
        """Updates fields; with expected_status, only while the record still has that status."""
        expression, names, values = update_expression(fields)
        kwargs: dict[str, Any] = {}
        if expected_status is not None:
            names["#status_now"] = "status"
            values[":status_now"] = {"S": expected_status}
            kwargs["ConditionExpression"] = "#status_now = :status_now"
        try:
            self._client.update_item(
                TableName=self._table,
                Key=record_key(district_id, school_id, import_id),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                **kwargs,
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def page(
        self, district_id: str, school_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of history, newest first, in exactly one Query."""
        kwargs: dict[str, Any] = {}
        if cursor:
            kwargs["ExclusiveStartKey"] = record_key(district_id, school_id, decode_cursor(cursor))
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{district_id}#{school_id}"}},
            ScanIndexForward=False,
            Limit=limit,
            **kwargs,
        )
        items = [_public(from_item(item)) for item in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return items, encode_cursor(last["sk"]["S"]) if last else None


def encode_cursor(import_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": import_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        import_id = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadCursor("cursor is not one this API returned") from exc
    if not isinstance(import_id, str) or not IMPORT_ID.match(import_id):
        raise BadCursor("cursor is not one this API returned")
    return import_id


# Kept on the item for the importer's own use, never shown.
_INTERNAL = ("pk", "sk", "content_hash", "planned_changes")


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in _INTERNAL}
