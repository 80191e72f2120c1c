"""Compares what a school's roster is with what an upload says it should be.

The rules (docs/data-model.md): a record in the upload is active; an active record absent
from the upload becomes dropped (never deleted); a dropped record that returns is
reactivated, not new; people's names are kept from their first import; ids whose rows were
skipped keep their stored state. Only records whose stored item would change are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sis_imports.model import ENTITIES, FIELDS, NAME_FIELDS
from sis_imports.snapshot import SchoolSnapshot


@dataclass(frozen=True, slots=True)
class StoredRecord:
    values: tuple[str, ...]
    active: bool
    since: str  # the import that first brought the record
    changed_by: str = ""  # the import that last wrote it; a rollback puts it back too


@dataclass(frozen=True, slots=True)
class Change:
    entity: str
    record_id: str
    values: tuple[str, ...]
    active: bool
    since: str
    before: StoredRecord | None  # None for a new record; kept so an import can be rolled back


@dataclass
class EntityCounts:
    total: int = 0  # records kept for the school, dropped ones included
    new: int = 0
    dropped: int = 0  # became dropped in this import
    active: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"total": self.total, "new": self.new, "dropped": self.dropped, "active": self.active}


@dataclass
class RosterPlan:
    changes: list[Change] = field(default_factory=list)
    counts: dict[str, EntityCounts] = field(default_factory=dict)

    def counts_dict(self) -> dict[str, dict[str, int]]:
        return {entity: self.counts[entity].as_dict() for entity in ENTITIES}


StoredRoster = dict[str, dict[str, StoredRecord]]

# Positions of the name fields in each entity's value tuple.
_NAME_POSITIONS = {
    entity: tuple(i for i, name in enumerate(FIELDS[entity]) if name in NAME_FIELDS.get(entity, ()))
    for entity in ENTITIES
}


def plan_changes(stored: StoredRoster, snapshot: SchoolSnapshot, import_id: str) -> RosterPlan:
    plan = RosterPlan()
    for entity in ENTITIES:
        plan.counts[entity] = _plan_entity(entity, stored.get(entity, {}), snapshot, import_id, plan.changes)
    return plan


def _plan_entity(
    entity: str,
    existing: dict[str, StoredRecord],
    snapshot: SchoolSnapshot,
    import_id: str,
    changes: list[Change],
) -> EntityCounts:
    incoming = snapshot.records[entity]
    protected = snapshot.protected[entity]
    name_positions = _NAME_POSITIONS[entity]
    counts = EntityCounts()
    append = changes.append
    for record_id, values in incoming.items():
        old = existing.get(record_id)
        if old is None:
            counts.new += 1
            append(Change(entity, record_id, values, True, import_id, None))
            continue
        kept = _keep_names(old.values, values, name_positions) if name_positions else values
        if kept != old.values or not old.active:
            append(Change(entity, record_id, kept, True, old.since, old))
    still_active = 0
    for record_id, old in existing.items():
        if record_id in incoming:
            continue
        if record_id in protected:
            still_active += old.active
        elif old.active:
            counts.dropped += 1
            append(Change(entity, record_id, old.values, False, old.since, old))
    counts.total = len(existing) + counts.new
    counts.active = len(incoming) + still_active
    return counts


def _keep_names(old: tuple[str, ...], new: tuple[str, ...], positions: tuple[int, ...]) -> tuple[str, ...]:
    merged = list(new)
    for position in positions:
        merged[position] = old[position]
    return tuple(merged)
