"""What one upload says a school's roster is: the validated records, per school.

Every format's parser feeds the same builder, so validation, duplicate handling and
reference checks behave the same for Sloopy, OneRoster and SDS. The checks are plain
compiled-regex and dict look-ups: this runs once per row, so no pydantic here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from sis_imports.issues import IssueLog
from sis_imports.model import (
    COURSES,
    ENROLLMENTS,
    ENTITIES,
    SECTIONS,
    STUDENTS,
    TEACHERS,
    enrollment_id,
)

MAX_ID_LENGTH = 128
MAX_TEXT_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Records = dict[str, tuple[str, ...]]


@dataclass
class SchoolSnapshot:
    """One school's records from one upload, plus the ids whose rows were skipped.

    A skipped row must never cause a loss: `protected` ids keep their stored state.
    """

    school_id: str
    records: dict[str, Records] = field(default_factory=lambda: {entity: {} for entity in ENTITIES})
    protected: dict[str, set[str]] = field(default_factory=lambda: {entity: set() for entity in ENTITIES})

    def counts(self) -> dict[str, int]:
        return {entity: len(self.records[entity]) for entity in ENTITIES}

    def content_hash(self) -> str:
        """Stable across row order, so a re-sorted export of the same data hashes the same."""
        digest = hashlib.sha256()
        for entity in ENTITIES:
            digest.update(entity.encode())
            for record_id in sorted(self.records[entity]):
                digest.update(b"\x1e" + record_id.encode() + b"\x1f")
                digest.update("\x1f".join(self.records[entity][record_id]).encode())
        return digest.hexdigest()


class SnapshotBuilder:
    """Collects rows into per-school snapshots, skipping bad rows with a warning."""

    def __init__(self, issues: IssueLog):
        self.issues = issues
        self.schools: dict[str, SchoolSnapshot] = {}
        # Where each record came from, so reference problems can name a file and line.
        self._origin: dict[tuple[str, str, str], tuple[str, int]] = {}

    def school(self, school_id: str) -> SchoolSnapshot:
        snapshot = self.schools.get(school_id)
        if snapshot is None:
            snapshot = self.schools[school_id] = SchoolSnapshot(school_id)
        return snapshot

    # -- rows -------------------------------------------------------------
    def add(
        self, school_id: str, entity: str, record_id: str, values: tuple[str, ...], file: str, line: int
    ) -> bool:
        """Adds one record; returns False (with a warning) when the row is skipped."""
        snapshot = self.school(school_id)
        record_id = record_id.strip()
        if not record_id or len(record_id) > MAX_ID_LENGTH or _CONTROL.search(record_id):
            self.issues.warn(
                file,
                line,
                "bad_id",
                f"{_singular(entity)} id is empty, too long or has control characters; row skipped",
                school_id,
            )
            return False
        values = tuple(value.strip() for value in values)
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
        self._origin[(school_id, entity, record_id)] = (file, line)
        return True

    def add_enrollment(self, school_id: str, section_id: str, student_id: str, file: str, line: int) -> bool:
        section_id, student_id = section_id.strip(), student_id.strip()
        for part in (section_id, student_id):
            if not part or len(part) > MAX_ID_LENGTH or _CONTROL.search(part):
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
        records = self.school(school_id).records[ENROLLMENTS]
        if key in records:
            self.issues.warn(
                file,
                line,
                "duplicate_id",
                f"student {student_id} is listed twice in section {section_id}; the first row is kept",
                school_id,
            )
            return False
        records[key] = ()
        self._origin[(school_id, ENROLLMENTS, key)] = (file, line)
        return True

    def skipped(self, school_id: str, entity: str, record_id: str) -> None:
        """A row for this id was unreadable: keep whatever is stored for it."""
        if record_id.strip():
            self.school(school_id).protected[entity].add(record_id.strip())

    # -- references ---------------------------------------------------------
    def finish(self) -> dict[str, SchoolSnapshot]:
        """Drops records whose references do not resolve, then returns the snapshots."""
        for school_id, snapshot in self.schools.items():
            self._check_sections(school_id, snapshot)
            self._check_enrollments(school_id, snapshot)
        self._origin.clear()
        return self.schools

    def _check_sections(self, school_id: str, snapshot: SchoolSnapshot) -> None:
        courses, teachers = snapshot.records[COURSES], snapshot.records[TEACHERS]
        sections = snapshot.records[SECTIONS]
        for section_id, (course_id, teacher_id, _period, _term) in list(sections.items()):
            problem = None
            if course_id not in courses:
                problem = (
                    f"section {section_id} names course {course_id or '(blank)'}, which is not in the upload"
                )
            elif teacher_id and teacher_id not in teachers:
                problem = f"section {section_id} names teacher {teacher_id}, which is not in the upload"
            if problem:
                self._drop(school_id, snapshot, SECTIONS, section_id, "unknown_reference", problem)

    def _check_enrollments(self, school_id: str, snapshot: SchoolSnapshot) -> None:
        sections, students = snapshot.records[SECTIONS], snapshot.records[STUDENTS]
        protected_sections = snapshot.protected[SECTIONS]
        for key in list(snapshot.records[ENROLLMENTS]):
            section_id, _, student_id = key.partition("\t")
            if section_id not in sections:
                if section_id in protected_sections:
                    # The section's own row was skipped and already reported: keep quiet, keep state.
                    del snapshot.records[ENROLLMENTS][key]
                    snapshot.protected[ENROLLMENTS].add(key)
                    continue
                problem = f"enrollment of student {student_id} names section {section_id}, which is not in the upload"
            elif student_id not in students:
                problem = f"enrollment in section {section_id} names student {student_id}, which is not in the upload"
            else:
                continue
            self._drop(school_id, snapshot, ENROLLMENTS, key, "unknown_reference", problem)

    def _drop(
        self, school_id: str, snapshot: SchoolSnapshot, entity: str, record_id: str, code: str, message: str
    ) -> None:
        del snapshot.records[entity][record_id]
        snapshot.protected[entity].add(record_id)
        file, line = self._origin.get((school_id, entity, record_id), (None, None))
        self.issues.warn(file, line, code, message + "; row skipped", school_id)


def _singular(entity: str) -> str:
    return {
        TEACHERS: "teacher",
        STUDENTS: "student",
        COURSES: "course",
        SECTIONS: "section",
        ENROLLMENTS: "enrollment",
    }[entity]
