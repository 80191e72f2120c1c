"""What one upload says a school's roster is: the validated records, per school.

Every format's parser feeds the same builder, so validation, duplicate handling and
reference checks behave the same for Sloopy, OneRoster and SDS. The checks are plain
compiled-regex and dict look-ups: this runs once per row, so no pydantic here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import repeat

from sis_imports.issues import IssueLog
from sis_imports.model import (
    COURSES,
    ENROLLMENT_SEPARATOR,
    ENROLLMENTS,
    ENTITIES,
    SECTIONS,
    STUDENTS,
    TEACHERS,
    enrollment_id,
    split_enrollment_id,
)

MAX_ID_LENGTH = 128
MAX_TEXT_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Records = dict[str, tuple[str, ...]]
# Every entity but enrollments, which have no values (SchoolSnapshot.enrollments).
VALUED_ENTITIES = tuple(entity for entity in ENTITIES if entity != ENROLLMENTS)


@dataclass
class SchoolSnapshot:
    """One school's records from one upload, plus the ids whose rows were skipped.

    An enrollment is only its id (student and section), with no values, so enrollments are kept as
    a set of ids: on the largest uploads they are most of the rows, and set operations on them are
    several times cheaper than on a dict. The other entities map each id to its values.

    A skipped row must never cause a loss: `protected` ids keep their stored state.
    """

    school_id: str
    records: dict[str, Records] = field(default_factory=lambda: {entity: {} for entity in VALUED_ENTITIES})
    enrollments: set[str] = field(default_factory=set)
    protected: dict[str, set[str]] = field(default_factory=lambda: {entity: set() for entity in ENTITIES})

    def ids(self, entity: str) -> Collection[str]:
        return self.enrollments if entity == ENROLLMENTS else self.records[entity].keys()

    def values(self, entity: str, record_id: str) -> tuple[str, ...]:
        return () if entity == ENROLLMENTS else self.records[entity][record_id]

    def counts(self) -> dict[str, int]:
        return {entity: len(self.ids(entity)) for entity in ENTITIES}

    def content_hash(self) -> str:
        """Stable across row order, so a re-sorted export of the same data hashes the same."""
        digest = hashlib.sha256()
        for entity in ENTITIES:
            digest.update(entity.encode())
            for record_id in sorted(self.ids(entity)):
                digest.update(b"\x1e" + record_id.encode() + b"\x1f")
                digest.update("\x1f".join(self.values(entity, record_id)).encode())
        return digest.hexdigest()


class SnapshotBuilder:
    """Collects rows into per-school snapshots, skipping bad rows with a warning.

    Every parser reads enrollments last, so an enrollment's section and student are checked as it
    arrives, with its own file and line. A section's course and teacher are checked at the end
    (OneRoster lists classes before courses); sections are few, so only theirs are remembered.
    """

    def __init__(self, issues: IssueLog):
        self.issues = issues
        self.schools: dict[str, SchoolSnapshot] = {}
        self._section_origin: dict[tuple[str, str], tuple[str, int]] = {}
        self._known: dict[tuple[str, str], set[str]] = {}

    def school(self, school_id: str) -> SchoolSnapshot:
        snapshot = self.schools.get(school_id)
        if snapshot is None:
            snapshot = self.schools[school_id] = SchoolSnapshot(school_id)
        return snapshot

    # -- rows -------------------------------------------------------------
    def add(
        self,
        school_id: str,
        entity: str,
        record_id: str,
        values: tuple[str, ...],
        file: str,
        line: int,
        *,
        checked: bool = False,
    ) -> bool:
        """Adds one record; returns False (with a warning) when the row is skipped.

        `checked` says the caller has already found no control character in the row and no value
        longer than MAX_TEXT_LENGTH (Sloopy checks a whole line at once, far cheaper than per value).
        """
        snapshot = self.schools.get(school_id) or self.school(school_id)
        record_id = record_id.strip()
        if not record_id or len(record_id) > MAX_ID_LENGTH or (not checked and _CONTROL.search(record_id)):
            self.issues.warn(
                file,
                line,
                "bad_id",
                f"{_singular(entity)} id is empty, too long or has control characters; row skipped",
                school_id,
            )
            return False
        values = tuple(map(str.strip, values))
        if not checked:
            for value in values:
                if len(value) > MAX_TEXT_LENGTH or _CONTROL.search(value):
                    snapshot.protected[entity].add(record_id)
                    self.issues.warn(
                        file,
                        line,
                        "bad_value",
                        f"{_singular(entity)} {record_id}: a value is "
                        "too long or has control characters; row skipped",
                        school_id,
                    )
                    return False
        records = snapshot.records[entity]
        if record_id in records:
            self.issues.warn(
                file,
                line,
                "duplicate_id",
                f"duplicate {_singular(entity)} id {record_id}; the first row is kept",
                school_id,
            )
            return False
        records[record_id] = values
        if entity == SECTIONS:
            self._section_origin[(school_id, record_id)] = (file, line)
        return True

    def add_enrollment(
        self, school_id: str, section_id: str, student_id: str, file: str, line: int, *, checked: bool = False
    ) -> bool:
        snapshot = self.schools.get(school_id) or self.school(school_id)
        section_id, student_id = section_id.strip(), student_id.strip()
        for part in (section_id, student_id):
            if not part or len(part) > MAX_ID_LENGTH or (not checked and _CONTROL.search(part)):
                self.issues.warn(
                    file,
                    line,
                    "bad_id",
                    "enrollment's section or student id is empty, too long "
                    "or has control characters; row skipped",
                    school_id,
                )
                return False
        key = enrollment_id(section_id, student_id)
        if section_id not in snapshot.records[SECTIONS]:
            snapshot.protected[ENROLLMENTS].add(key)
            if section_id not in snapshot.protected[SECTIONS]:  # a skipped section was reported already
                self.issues.warn(
                    file,
                    line,
                    "unknown_reference",
                    f"enrollment of student {student_id} names "
                    f"section {section_id}, which is not in the upload; row skipped",
                    school_id,
                )
            return False
        if student_id not in snapshot.records[STUDENTS]:
            snapshot.protected[ENROLLMENTS].add(key)
            self.issues.warn(
                file,
                line,
                "unknown_reference",
                f"enrollment in section {section_id} names "
                f"student {student_id}, which is not in the upload; row skipped",
                school_id,
            )
            return False
        if key in snapshot.enrollments:
            self.issues.warn(
                file,
                line,
                "duplicate_id",
                f"student {student_id} is listed twice in section {section_id}; the first row is kept",
                school_id,
            )
            return False
        snapshot.enrollments.add(key)
        return True

    # -- batches ----------------------------------------------------------------
    # The batch methods add many rows at once with C-level operations (map, zip, dict and set
    # operations), all or nothing: when any row would not be added exactly as `add` or
    # `add_enrollment` adds it, they change nothing and return False, and the caller adds that
    # batch's rows one at a time, so every problem is reported with its own line as usual.

    def add_rows(
        self,
        school_id: str,
        entity: str,
        ids: list[str],
        columns: list[list[str]],
        file: str,
        lines: Sequence[int],
        *,
        checked: bool = False,
    ) -> bool:
        """Rows with their line numbers; `columns` holds each kept value's column.

        `checked` says the caller has found no control character in these rows.
        """
        ids = list(map(str.strip, ids))
        columns = [list(map(str.strip, column)) for column in columns]
        if not ids or min(map(len, ids)) == 0 or max(map(len, ids)) > MAX_ID_LENGTH:
            return False
        if any(column and max(map(len, column)) > MAX_TEXT_LENGTH for column in columns):
            return False
        if not checked and (
            _CONTROL.search("".join(ids)) or any(_CONTROL.search("".join(column)) for column in columns)
        ):
            return False
        fresh = dict(zip(ids, zip(*columns, strict=True), strict=True))
        records = self.school(school_id).records[entity]
        if len(fresh) != len(ids) or not records.keys().isdisjoint(fresh):
            return False  # a repeated id: the row-by-row path names it
        records.update(fresh)
        if entity == SECTIONS:
            self._section_origin.update(
                zip(zip(repeat(school_id), ids), zip(repeat(file), lines), strict=True)
            )
        return True

    def add_enrollment_rows(
        self,
        school_id: str,
        section_ids: list[str],
        student_ids: list[str],
        keys: list[str] | None = None,
    ) -> bool:
        """Enrollments whose section and student are both in the upload already, none repeated.

        Being found among the upload's ids proves an id is valid (stripped, short, no control
        character), so these need no other check. `keys`, when given, are their enrollment ids.
        """
        snapshot = self.school(school_id)
        # Distinct ids only: exports list a section's (or a student's) rows together, so far fewer.
        if not (
            self._known_ids(snapshot, SECTIONS) >= set(section_ids)
            and self._known_ids(snapshot, STUDENTS) >= set(student_ids)
        ):
            return False
        if keys is None:
            keys = list(map(ENROLLMENT_SEPARATOR.join, zip(student_ids, section_ids, strict=True)))
        fresh = set(keys)
        enrolled = snapshot.enrollments
        if len(fresh) != len(keys) or not enrolled.isdisjoint(fresh):
            return False
        enrolled |= fresh
        return True

    def _known_ids(self, snapshot: SchoolSnapshot, entity: str) -> set[str]:
        """A set of the entity's ids so far, made again only when ids were added since.

        An enrollment batch checks each student id against the school's: in a set, which keeps each
        key's hash beside it, that look-up takes half the time it takes in the records dict (measured
        on 825,000 enrollments of 137,500 students; docs/performance.md).
        """
        known = self._known.get((snapshot.school_id, entity))
        # Ids are only ever added while reading, so the same count means the same ids.
        if known is None or len(known) != len(snapshot.records[entity]):
            known = self._known[(snapshot.school_id, entity)] = set(snapshot.records[entity])
        return known

    def skipped(self, school_id: str, entity: str, record_id: str) -> None:
        """A row for this id was unreadable: keep whatever is stored for it."""
        if record_id.strip():
            self.school(school_id).protected[entity].add(record_id.strip())

    # -- references ---------------------------------------------------------
    def finish(self) -> dict[str, SchoolSnapshot]:
        """Drops sections whose course or teacher is not in the upload, then returns the snapshots."""
        for school_id, snapshot in self.schools.items():
            dropped = self._check_sections(school_id, snapshot)
            if dropped:
                # Their enrollments were accepted as they arrived: keep them as stored, unchanged.
                orphans = {key for key in snapshot.enrollments if split_enrollment_id(key)[0] in dropped}
                snapshot.enrollments -= orphans
                snapshot.protected[ENROLLMENTS] |= orphans
        self._section_origin.clear()
        self._known.clear()
        return self.schools

    def _check_sections(self, school_id: str, snapshot: SchoolSnapshot) -> set[str]:
        courses, teachers = snapshot.records[COURSES], snapshot.records[TEACHERS]
        sections = snapshot.records[SECTIONS]
        dropped: set[str] = set()
        for section_id, (course_id, teacher_id, _period, _term) in list(sections.items()):
            if course_id not in courses:
                problem = (
                    f"section {section_id} names course {course_id or '(blank)'}, which is not in the upload"
                )
            elif teacher_id and teacher_id not in teachers:
                problem = f"section {section_id} names teacher {teacher_id}, which is not in the upload"
            else:
                continue
            del sections[section_id]
            snapshot.protected[SECTIONS].add(section_id)
            dropped.add(section_id)
            file, line = self._section_origin.get((school_id, section_id), (None, None))
            self.issues.warn(file, line, "unknown_reference", problem + "; row skipped", school_id)
        return dropped


def _singular(entity: str) -> str:
    return {
        TEACHERS: "teacher",
        STUDENTS: "student",
        COURSES: "course",
        SECTIONS: "section",
        ENROLLMENTS: "enrollment",
    }[entity]
