"""The Sloopy set: tab-delimited text, no header, no quoting; one file per entity.

File names are case-insensitive and may carry a school-code prefix (`CTS_Students.txt`);
in a district bundle that prefix names the school. Columns past the ones read are ignored.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from sis_imports.formats.archive import UploadArchive
from sis_imports.formats.common import FileStats, RowTally, Scope
from sis_imports.formats.text import OVERLONG_LINE, TextFile
from sis_imports.issues import IssueLog
from sis_imports.model import COURSES, ENROLLMENTS, SECTIONS, STUDENTS, TEACHERS, UploadRejected
from sis_imports.snapshot import MAX_TEXT_LENGTH, SnapshotBuilder

FILE_NAME = re.compile(
    r"^(?:(?P<prefix>.+?)_)?(?P<kind>courses|teachers|students|sections|studentsections)\.txt$", re.IGNORECASE
)

# kind -> (entity, columns read, what the columns are)
FILES: dict[str, tuple[str, int, str]] = {
    "courses": (COURSES, 2, "course id, title"),
    "teachers": (TEACHERS, 3, "teacher id, last name, first name"),
    "students": (STUDENTS, 4, "student id, last name, first name, grade"),
    "sections": (SECTIONS, 5, "section id, course id, teacher id, period, term"),
    "studentsections": (ENROLLMENTS, 2, "student id, section id"),
}
# Read in this order: an enrollment's student and section are checked as it arrives.
# Control characters other than the tab; one search per line instead of one per value.
_BAD_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
ORDER = ("courses", "teachers", "students", "sections", "studentsections")


def matches(archive: UploadArchive) -> bool:
    return any(FILE_NAME.match(key) for key in archive.members)


def parse(archive: UploadArchive, builder: SnapshotBuilder, scope: Scope, stats: FileStats) -> None:
    by_school: dict[str, dict[str, str]] = {}
    for key, member in archive.members.items():
        # Match the name as written: the prefix is a school id, and school ids keep their case.
        found = FILE_NAME.match(PurePosixPath(member.name).name)
        if not found:
            continue
        school_id = _school_of(found.group("prefix"), archive.members[key].name, scope)
        files = by_school.setdefault(school_id, {})
        kind = found.group("kind").lower()
        if kind in files:
            raise UploadRejected(
                "ambiguous_file",
                f"Two {kind} files for school {school_id}: "
                f"{archive.members[files[kind]].name} and {archive.members[key].name}.",
            )
        files[kind] = key
    for school_id, files in sorted(by_school.items()):
        missing = [kind for kind in ORDER if kind not in files]
        if missing:
            names = ", ".join(_display(kind) for kind in missing)
            raise UploadRejected(
                "missing_file",
                f"The Sloopy set for school {school_id} has no {names}. "
                "All five files are required, even when one is empty.",
            )
        for kind in ORDER:
            _read_file(archive, files[kind], kind, school_id, builder, scope, stats)


def _school_of(prefix: str | None, name: str, scope: Scope) -> str:
    if scope.school_id is not None:
        if prefix is not None and prefix.lower() != scope.school_id.lower():
            return scope.school_for(prefix, file=name, line=None)
        return scope.school_id
    if prefix is None:
        raise UploadRejected(
            "missing_school_prefix",
            f"{name} has no school prefix. In a district bundle each "
            "file is named <school>_<File>.txt, for example CTS_Students.txt.",
            file=name,
        )
    return scope.school_for(prefix, file=name, line=None)


def _read_file(
    archive: UploadArchive,
    key: str,
    kind: str,
    school_id: str,
    builder: SnapshotBuilder,
    scope: Scope,
    stats: FileStats,
) -> None:
    entity, width, expected = FILES[kind]
    name = archive.members[key].name
    issues: IssueLog = builder.issues
    prefix = scope.sloopy_data_prefix
    skip = 1 if prefix else 0
    tally = RowTally(
        name, f"{width + skip} tab-separated columns: {'school prefix, ' if prefix else ''}{expected}"
    )
    add, enroll = builder.add, builder.add_enrollment
    snapshot = builder.school(school_id)
    students, sections, enrolled = (snapshot.records[e] for e in (STUDENTS, SECTIONS, ENROLLMENTS))
    with archive.open(key) as raw:
        text = TextFile(raw)
        for line_no, raw_line in enumerate(text.lines(), 1):
            line = raw_line.rstrip("\r\n")
            if not line or line.isspace():
                continue
            if _BAD_LINE.search(line):  # NUL or another control character, or a runaway line
                tally.bad += 1
                if entity != ENROLLMENTS and line != OVERLONG_LINE[:-1]:
                    builder.skipped(school_id, entity, line.split("\t", 1)[0].replace("\x00", ""))
                issues.warn(
                    name,
                    line_no,
                    "bad_row",
                    "line is too long or holds NUL or control characters; row skipped",
                )
                continue
            fields = line.split("\t")
            if skip:
                if fields[0].strip() != prefix:
                    raise UploadRejected(
                        "other_school",
                        f"{name} line {line_no} starts with school prefix "
                        f"{fields[0].strip()[:64]!r}, not {prefix!r}: it carries another "
                        "school's rows.",
                        file=name,
                        line=line_no,
                    )
                fields = fields[1:]
            if len(fields) < width:
                tally.bad += 1
                builder.skipped(school_id, entity, fields[0])
                issues.warn(
                    name,
                    line_no,
                    "too_few_columns",
                    f"row has {len(fields)} columns, expected {width} ({expected}); row skipped",
                )
                continue
            tally.good += 1
            # The whole line is free of control characters; a short line holds no over-long value.
            checked = len(line) <= MAX_TEXT_LENGTH
            if entity == ENROLLMENTS:
                # The common case inline (this file is most of an upload's rows); anything unusual takes
                # add_enrollment's full path, which reports it.
                student_id, section_id = fields[0].strip(), fields[1].strip()
                key = f"{section_id}\t{student_id}"
                if checked and student_id in students and section_id in sections and key not in enrolled:
                    enrolled[key] = ()
                else:
                    enroll(school_id, section_id, student_id, name, line_no, checked=checked)
            else:
                add(school_id, entity, fields[0], tuple(fields[1:width]), name, line_no, checked=checked)
        if text.used_fallback:
            issues.warn(name, None, "encoding", "file is not UTF-8; read as Windows-1252")
    tally.check(stats)
    if kind in ("students", "teachers") and tally.good == 0:
        raise UploadRejected(
            "empty_file",
            f"{name} has no rows. Refusing an upload that would drop every "
            f"{kind[:-1]}; check the SIS export.",
            file=name,
        )


def _display(kind: str) -> str:
    return {"studentsections": "StudentSections.txt"}.get(kind, kind.capitalize() + ".txt")
