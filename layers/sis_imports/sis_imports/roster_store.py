"""The roster table: one item per record, one partition per school and school year.

Layout (docs/data-model.md): pk = "<district>#<school>#<generation>", sk = "<code>#<id>".
The low-level client and hand-built attribute values are used on purpose: this path moves
every record of a school, and boto3's resource serializer costs more than the rest of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sis_imports.diff import Change, StoredRecord, StoredRoster
from sis_imports.model import ENTITIES, ENTITY_BY_CODE, ENTITY_CODES, FIELDS

BATCH_SIZE = 25  # DynamoDB's BatchWriteItem limit


@dataclass
class WriteStats:
    requests: int = 0  # BatchWriteItem calls, retries included
    items: int = 0


def partition_key(district_id: str, school_id: str, generation: str) -> str:
    return f"{district_id}#{school_id}#{generation}"


class RosterStore:
    def __init__(self, client: Any, table: str):
        self._client = client
        self._table = table

    def load(self, district_id: str, school_id: str, generation: str) -> StoredRoster:
        roster: StoredRoster = {entity: {} for entity in ENTITIES}
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": partition_key(district_id, school_id, generation)}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                code, _, record_id = item["sk"]["S"].partition("#")
                entity = ENTITY_BY_CODE[code]
                values = tuple(item[name]["S"] if name in item else "" for name in FIELDS[entity])
                roster[entity][record_id] = StoredRecord(
                    values, item["active"]["BOOL"], item["since"]["S"], item["changed_by"]["S"]
                )
        return roster

    def write(
        self, district_id: str, school_id: str, generation: str, changes: Iterable[Change], import_id: str
    ) -> WriteStats:
        pk = partition_key(district_id, school_id, generation)
        return self._write_all({"PutRequest": {"Item": _item(pk, change, import_id)}} for change in changes)

    def restore(
        self,
        district_id: str,
        school_id: str,
        generation: str,
        entries: Iterable[tuple[str, str, StoredRecord | None]],
        import_id: str,
    ) -> WriteStats:
        """Puts each record back exactly as it was; a record that did not exist before is deleted.

        `import_id` marks only records whose before-image predates `changed_by` being kept.
        """
        pk = partition_key(district_id, school_id, generation)

        def requests() -> Iterator[dict[str, Any]]:
            for entity, record_id, before in entries:
                if before is None:
                    key = {"pk": {"S": pk}, "sk": {"S": f"{ENTITY_CODES[entity]}#{record_id}"}}
                    yield {"DeleteRequest": {"Key": key}}
                else:
                    change = Change(entity, record_id, before.values, before.active, before.since, None)
                    yield {"PutRequest": {"Item": _item(pk, change, before.changed_by or import_id)}}

        return self._write_all(requests())

    def _write_all(self, requests: Iterable[dict[str, Any]]) -> WriteStats:
        """BatchWriteItem, 25 requests a call."""
        stats = WriteStats()
        batch: list[dict[str, Any]] = []
        for request in requests:
            batch.append(request)
            if len(batch) == BATCH_SIZE:
                self._flush(batch, stats)
                batch = []
        if batch:
            self._flush(batch, stats)
        return stats

    def _flush(self, batch: list[dict[str, Any]], stats: WriteStats) -> None:
        stats.items += len(batch)
        pending: dict[str, Any] = {self._table: batch}
        for attempt in range(12):
            stats.requests += 1
            response = self._client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(min(0.05 * 2**attempt, 5.0))
        raise RuntimeError("DynamoDB kept refusing roster writes; the import will be retried")


def tally(roster: StoredRoster) -> dict[str, dict[str, int]]:
    """Counts as they stand, for a roster that no import just changed (after a rollback)."""
    return {
        entity: {
            "total": len(records),
            "new": 0,
            "dropped": 0,
            "active": sum(record.active for record in records.values()),
        }
        for entity, records in roster.items()
    }


def _item(pk: str, change: Change, import_id: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": pk},
        "sk": {"S": f"{ENTITY_CODES[change.entity]}#{change.record_id}"},
        "active": {"BOOL": change.active},
        "since": {"S": change.since},
        "changed_by": {"S": import_id},
    }
    for name, value in zip(FIELDS[change.entity], change.values, strict=True):
        if value:
            item[name] = {"S": value}
    return item
