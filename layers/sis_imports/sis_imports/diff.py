"""Compares what a school's roster is with what an upload says it should be.

The rules (docs/data-model.md): a record in the upload is active; an active record absent
from the upload becomes dropped (never deleted); a dropped record that returns is
reactivated, not new; people's names are kept from their first import; ids whose rows were
skipped keep their stored state. Only records whose stored item would change are written.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from sis_imports.model import ENROLLMENTS, ENTITIES, FIELDS, NAME_FIELDS
from sis_imports.snapshot import Records, SchoolSnapshot


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
class EntityPlan:
    """What must change for one entity, kept compact: the Change objects are made only when written."""

    new: Collection[str]  # ids first seen in this upload; their values are the snapshot's
    updated: list[tuple[str, tuple[str, ...], StoredRecord]]  # (id, values to store, before)
    dropped: list[tuple[str, StoredRecord]]  # (id, before)
    counts: EntityCounts

    def __len__(self) -> int:
        return len(self.new) + len(self.updated) + len(self.dropped)


@dataclass
class RosterPlan:
    snapshot: SchoolSnapshot
    import_id: str
    entities: dict[str, EntityPlan] = field(default_factory=dict)

    def changes(self) -> Iterator[Change]:
        """Every record whose stored item must change, made afresh on each call (written once, logged once)."""
        incoming = self.snapshot.values
        for entity, plan in self.entities.items():
            for record_id in plan.new:
                yield Change(entity, record_id, incoming(entity, record_id), True, self.import_id, None)
            for record_id, values, before in plan.updated:
                yield Change(entity, record_id, values, True, before.since, before)
            for record_id, before in plan.dropped:
                yield Change(entity, record_id, before.values, False, before.since, before)

    def change_count(self) -> int:
        return sum(map(len, self.entities.values()))

    @property
    def counts(self) -> dict[str, EntityCounts]:
        return {entity: plan.counts for entity, plan in self.entities.items()}

    def counts_dict(self) -> dict[str, dict[str, int]]:
        return {entity: self.entities[entity].counts.as_dict() for entity in ENTITIES}


StoredRoster = dict[str, dict[str, StoredRecord]]

# Positions of the name fields in each entity's value tuple.
_NAME_POSITIONS = {
    entity: tuple(i for i, name in enumerate(FIELDS[entity]) if name in NAME_FIELDS.get(entity, ()))
    for entity in ENTITIES
}


def plan_changes(stored: StoredRoster, snapshot: SchoolSnapshot, import_id: str) -> RosterPlan:
    plan = RosterPlan(snapshot, import_id)
    for entity in ENTITIES:
        plan.entities[entity] = _plan_entity(entity, stored.get(entity, {}), snapshot)
    return plan


def _plan_entity(entity: str, existing: dict[str, StoredRecord], snapshot: SchoolSnapshot) -> EntityPlan:
    incoming = snapshot.ids(entity)
    if not existing:  # a first import: everything is new, nothing else to compare
        size = len(incoming)
        return EntityPlan(incoming, [], [], EntityCounts(size, size, 0, size))
    new: Collection[str]
    updated: list[tuple[str, tuple[str, ...], StoredRecord]]
    if entity == ENROLLMENTS:
        # No values to compare: an enrollment is new, or comes back after being dropped, or neither.
        new = snapshot.enrollments.difference(existing)
        updated = [(key, (), old) for key, old in existing.items() if not old.active and key in incoming]
    else:
        new, updated = _new_and_updated(entity, existing, snapshot.records[entity])
    dropped: list[tuple[str, StoredRecord]] = []
    still_active = 0
    protected = snapshot.protected[entity]
    for record_id, old in existing.items():
        if record_id in incoming:
            continue
        if record_id in protected:
            still_active += old.active
        elif old.active:
            dropped.append((record_id, old))
    counts = EntityCounts(
        total=len(existing) + len(new),
        new=len(new),
        dropped=len(dropped),
        active=len(incoming) + still_active,
    )
    return EntityPlan(new, updated, dropped, counts)


def _new_and_updated(
    entity: str, existing: dict[str, StoredRecord], incoming: Records
) -> tuple[list[str], list[tuple[str, tuple[str, ...], StoredRecord]]]:
    name_positions = _NAME_POSITIONS[entity]
    new: list[str] = []
    updated: list[tuple[str, tuple[str, ...], StoredRecord]] = []
    for record_id, values in incoming.items():
        old = existing.get(record_id)
        if old is None:
            new.append(record_id)
            continue
        kept = _keep_names(old.values, values, name_positions) if name_positions else values
        if kept != old.values or not old.active:
            updated.append((record_id, kept, old))
    return new, updated


def _keep_names(old: tuple[str, ...], new: tuple[str, ...], positions: tuple[int, ...]) -> tuple[str, ...]:
    merged = list(new)
    for position in positions:
        merged[position] = old[position]
    return tuple(merged)
