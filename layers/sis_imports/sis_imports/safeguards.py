"""The mass-change hold: an import that would drop or add too large a share of a school's active
students, enrollments or sections waits for a person to approve it (Canvas's change_threshold,
Clever's "On Hold"). Each entity is checked on its own. A school's first import of a school year
has nothing active to compare with, so it is never held.
"""

from __future__ import annotations

from sis_imports.diff import RosterPlan, StoredRoster
from sis_imports.model import ENROLLMENTS, SECTIONS, STUDENTS

DEFAULT_HOLD_PERCENT = 10.0
GUARDED = (STUDENTS, ENROLLMENTS, SECTIONS)


def hold_reason(stored: StoredRoster, plan: RosterPlan, threshold_percent: float) -> str | None:
    for entity in GUARDED:
        active_before = sum(record.active for record in stored.get(entity, {}).values())
        if active_before == 0:
            continue
        counts = plan.counts[entity]
        for verb, changed in (("drop", counts.dropped), ("add", counts.new)):
            share = 100 * changed / active_before
            if share > threshold_percent:
                return (
                    f"Held for review: this upload would {verb} {changed} of {active_before} active {entity} "
                    f"({share:.0f}%), more than the {threshold_percent:g}% allowed. If the SIS export is "
                    "complete, approve it; if not, discard it and ask the Sloopy installer to check the export."
                )
    return None
