"""The roster's vocabulary: entities, their stored fields, and what an upload is refused for."""

from __future__ import annotations

import re
from typing import Final

# District and school ids: what an S3 key and an API path may name (docs/formats.md).
SCHOOL_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

TEACHERS: Final = "teachers"
STUDENTS: Final = "students"
COURSES: Final = "courses"
SECTIONS: Final = "sections"
ENROLLMENTS: Final = "enrollments"

ENTITIES: Final = (TEACHERS, STUDENTS, COURSES, SECTIONS, ENROLLMENTS)

# The fields kept for each entity, in the order a record's value tuple holds them.
# Nothing else from an upload is ever kept (docs/formats.md lists what is dropped).
FIELDS: Final[dict[str, tuple[str, ...]]] = {
    TEACHERS: ("last_name", "first_name"),
    STUDENTS: ("last_name", "first_name", "grade"),
    COURSES: ("title",),
    SECTIONS: ("course_id", "teacher_id", "period", "term"),
    ENROLLMENTS: (),
}

# People's names come from the SIS on their first import only; the portal owns them after.
NAME_FIELDS: Final[dict[str, frozenset[str]]] = {
    TEACHERS: frozenset({"last_name", "first_name"}),
    STUDENTS: frozenset({"last_name", "first_name"}),
}

# One-letter codes keep sort keys short: an item is "<code>#<id>".
ENTITY_CODES: Final[dict[str, str]] = {
    TEACHERS: "T",
    STUDENTS: "S",
    COURSES: "C",
    SECTIONS: "X",
    ENROLLMENTS: "E",
}
ENTITY_BY_CODE: Final = {code: entity for entity, code in ENTITY_CODES.items()}

# An enrollment's id joins its student and section with a tab (ids never hold control characters):
# exactly a Sloopy StudentSections line, so the common row is its own id.
ENROLLMENT_SEPARATOR: Final = "\t"


def enrollment_id(section_id: str, student_id: str) -> str:
    return f"{student_id}{ENROLLMENT_SEPARATOR}{section_id}"


def split_enrollment_id(record_id: str) -> tuple[str, str]:
    """(section id, student id) of an enrollment id."""
    student_id, _, section_id = record_id.partition(ENROLLMENT_SEPARATOR)
    return section_id, student_id


class UploadRejected(Exception):
    """A structural problem: the whole upload is refused and no roster changes."""

    def __init__(self, code: str, message: str, *, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.file = file
        self.line = line
