"""School state: calendar, roster generation, newest imports and alert state, one item per school.

Layout (docs/data-model.md): pk = district_id, sk = school_id. The district's default
calendar is the item with sk = "#district" ('#' never occurs in a school id).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sis_imports.calendar import SchoolCalendar
from sis_imports.dynamo import from_item, update_expression
from sis_imports.observability import logger

DISTRICT_ITEM = "#district"
INITIAL_GENERATION = "initial"


@dataclass
class SchoolState:
    district_id: str
    school_id: str
    generation: str = INITIAL_GENERATION  # roster partition; changes when a new school year starts
    school_year: str | None = None  # the calendar year the current generation belongs to
    calendar: dict[str, Any] | None = None
    last_import_id: str | None = None
    last_import_at: str | None = None  # arrival time of the newest upload, any status
    last_upload_status: str | None = None
    last_succeeded_at: str | None = None
    last_applied_at: str | None = None  # arrival time of the newest upload applied to the roster
    content_hash: str | None = None
    previous_year_hash: str | None = None
    counts: dict[str, Any] | None = None
    alert: dict[str, Any] | None = None
    processing_since: str | None = None
    last_applied_import_id: str | None = None  # the import a rollback would undo
    decision: dict[str, Any] | None = None  # an approve or rollback handed to the importer, not yet done
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> SchoolState:
        data = from_item(item)
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


def effective_calendar(state: SchoolState | None, district: dict[str, Any] | None) -> SchoolCalendar | None:
    """A school's own calendar, else the district's default, else none."""
    if state is not None and state.calendar:
        return SchoolCalendar.model_validate(state.calendar)
    default = (district or {}).get("calendar")
    return SchoolCalendar.model_validate(default) if default else None


def effective_setting(state: SchoolState | None, district: dict[str, Any] | None, name: str) -> Any:
    """A school's own setting, else the district's, else None."""
    own = (state.settings or {}).get(name) if state else None
    return own if own is not None else ((district or {}).get("settings") or {}).get(name)


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Schools:
    def __init__(self, client: Any, table: str):
        self._client = client
        self._table = table

    def _key(self, district_id: str, school_id: str) -> dict[str, Any]:
        return {"district_id": {"S": district_id}, "school_id": {"S": school_id}}

    def get(self, district_id: str, school_id: str) -> tuple[SchoolState | None, dict[str, Any] | None]:
        """The school's state and the district's own item (default calendar, settings), in one BatchGetItem."""
        response = self._client.batch_get_item(
            RequestItems={
                self._table: {
                    "Keys": [self._key(district_id, school_id), self._key(district_id, DISTRICT_ITEM)],
                    "ConsistentRead": True,
                }
            }
        )
        state, district = None, None
        for item in response["Responses"].get(self._table, []):
            if item["school_id"]["S"] == DISTRICT_ITEM:
                district = from_item(item)
            else:
                state = SchoolState.from_item(item)
        return state, district

    def district(self, district_id: str) -> dict[str, Any] | None:
        """The district's own item: its default calendar and settings."""
        response = self._client.get_item(
            TableName=self._table, Key=self._key(district_id, DISTRICT_ITEM), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def update(
        self,
        district_id: str,
        school_id: str,
        fields: dict[str, Any],
        condition: tuple[str, dict[str, str], dict[str, Any]] | None = None,
    ) -> bool:
        expression, names, values = update_expression(fields)
        kwargs: dict[str, Any] = {}
        if condition:
            kwargs["ConditionExpression"] = condition[0]
            names.update(condition[1])
            values.update(condition[2])
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(district_id, school_id),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                **kwargs,
            )
            return True
        except self._client.exceptions.ConditionalCheckFailedException:
            return False

    def in_district(self, district_id: str) -> Iterator[SchoolState]:
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="district_id = :d",
            ExpressionAttributeValues={":d": {"S": district_id}},
        ):
            for item in page["Items"]:
                if item["school_id"]["S"] != DISTRICT_ITEM:
                    yield SchoolState.from_item(item)

    def pages(self, page_size: int = 500) -> Iterator[list[dict[str, Any]]]:
        """Every item, a page (one Scan call) at a time: district items included."""
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(TableName=self._table, PaginationConfig={"PageSize": page_size}):
            yield page["Items"]

    def roll_over_if_new_year(self, state: SchoolState, calendar: SchoolCalendar | None) -> SchoolState:
        """A calendar for a later school year starts a new roster generation; the old one is kept.

        The previous year's roster stays readable under its own partition, and its content hash is
        remembered so that last year's file, sent again by mistake, can be recognised and blocked.
        """
        if calendar is None or calendar.school_year == state.school_year:
            return state
        if state.school_year is None:
            # The first calendar a school gets adopts its current roster as that year's.
            state.school_year = calendar.school_year
            self.update(state.district_id, state.school_id, {"school_year": state.school_year})
            return state
        if not calendar.starts_later_than(state.school_year):
            return state
        logger.info(
            "new school year: roster rolled over",
            extra={"school_id": state.school_id, "from": state.school_year, "to": calendar.school_year},
        )
        state.previous_year_hash = state.content_hash
        state.generation = state.school_year = calendar.school_year
        state.content_hash = state.counts = state.last_applied_at = None
        self.update(
            state.district_id,
            state.school_id,
            {
                "generation": state.generation,
                "school_year": state.school_year,
                "previous_year_hash": state.previous_year_hash,
                "content_hash": None,
                "counts": None,
                "last_applied_at": None,
            },
        )
        return state

    def begin_decision(self, district_id: str, school_id: str, decision: dict[str, Any]) -> bool:
        """Marks a decision as waiting for the importer; False if another is waiting already."""
        return self.update(
            district_id,
            school_id,
            {"decision": decision},
            condition=("attribute_not_exists(decision)", {}, {}),
        )

    def end_decision(self, district_id: str, school_id: str, import_id: str) -> bool:
        """Clears the school's waiting decision, if it is still this import's."""
        return self.update(
            district_id,
            school_id,
            {"decision": None},
            condition=("decision.import_id = :id", {}, {":id": {"S": import_id}}),
        )

    def set_calendar(self, district_id: str, school_id: str | None, calendar: SchoolCalendar) -> None:
        """Stores a school's calendar, or the district default when school_id is None."""
        self.update(district_id, school_id or DISTRICT_ITEM, {"calendar": calendar.model_dump(mode="json")})

    def set_settings(self, district_id: str, school_id: str | None, settings: dict[str, Any]) -> None:
        """Stores a school's settings, or the district's when school_id is None."""
        self.update(district_id, school_id or DISTRICT_ITEM, {"settings": settings})
