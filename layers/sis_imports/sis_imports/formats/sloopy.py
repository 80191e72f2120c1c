"""The Sloopy set: tab-delimited text, no header, no quoting; one file per entity.

File names are case-insensitive and may carry a school-code prefix (`CTS_Students.txt`);
in a district bundle that prefix names the school. Columns past the ones read are ignored.
"""

from __future__ import annotations

import re
from itertools import repeat
from operator import itemgetter
from pathlib import PurePosixPath

from sis_imports.formats.archive import UploadArchive
from sis_imports.formats.common import FileStats, RowTally, Scope
from sis_imports.formats.text import OVERLONG_LINE, TextFile
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
_NOT_TAB_OR_LF = bytes(b for b in range(256) if b not in b"\t\n")


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
    reader = _SloopyFile(archive.members[key].name, kind, school_id, builder, scope.sloopy_data_prefix)
    with archive.open(key) as raw:
        reader.read(TextFile(raw))
    reader.tally.check(stats)
    if kind in ("students", "teachers") and reader.tally.good == 0:
        raise UploadRejected(
            "empty_file",
            f"{reader.name} has no rows. Refusing an upload that would drop every "
            f"{kind[:-1]}; check the SIS export.",
            file=reader.name,
        )


class _SloopyFile:
    """One file of a Sloopy set, read into the builder a batch of lines at a time."""

    def __init__(self, name: str, kind: str, school_id: str, builder: SnapshotBuilder, prefix: str | None):
        self.name, self.school_id, self.builder, self.prefix = name, school_id, builder, prefix
        self.entity, self.width, self.expected = FILES[kind]
        self.tally = RowTally(
            name,
            f"{self.width + bool(prefix)} tab-separated columns: "
            f"{'school prefix, ' if prefix else ''}{self.expected}",
        )

    def read(self, text: TextFile) -> None:
        line_no = 0
        for chunk, plain in text.texts():
            batch = text.split_lines(chunk, plain)
            first = line_no + 1
            line_no += len(batch)
            if not (plain and self._read_batch(chunk, batch, first)):
                for offset, raw_line in enumerate(batch):
                    self._read_line(raw_line, first + offset, plain)
        if text.used_fallback:
            self.builder.issues.warn(self.name, None, "encoding", "file is not UTF-8; read as Windows-1252")

    def _read_batch(self, chunk: str, batch: list[str], first: int) -> bool:
        """A plain chunk's lines, added at once when every one is a good row; False (nothing added)
        otherwise, and _read_line then reads each line and reports what is wrong with it."""
        columns, width = self._columns(chunk, batch)
        if columns is None:
            return False  # a short or blank line
        if self.prefix:
            if set(map(str.strip, columns[0])) != {self.prefix}:
                return False  # another school's prefix: _read_line refuses the upload
            columns = columns[1:]
        if self.entity == ENROLLMENTS:
            # Lines of exactly "<student>\t<section>" are already their enrollment ids.
            keys = batch if width == 2 and not self.prefix else None
            added = self.builder.add_enrollment_rows(self.school_id, columns[1], columns[0], keys)
        else:
            added = self.builder.add_rows(
                self.school_id,
                self.entity,
                columns[0],
                columns[1:],
                self.name,
                range(first, first + len(batch)),
                checked=True,
            )
        if added:
            self.tally.good += len(batch)
        return added

    def _columns(self, chunk: str, batch: list[str]) -> tuple[list[list[str]] | None, int | None]:
        """The columns read from a chunk's lines (the prefix first, if any), and how many columns every
        line has when they all have as many; no columns if a line is too short."""
        needed = self.width + (1 if self.prefix else 0)
        tabs = _tabs_per_line(chunk, len(batch))
        if tabs is not None and tabs + 1 >= needed:  # split the whole batch at once
            fields = "\t".join(batch).split("\t")
            return [fields[n :: tabs + 1] for n in range(needed)], tabs + 1
        if min(map(str.count, batch, repeat("\t"))) + 1 < needed:
            return None, None
        rows = list(map(str.split, batch, repeat("\t")))
        return [list(map(itemgetter(n), rows)) for n in range(needed)], None

    def _read_line(self, raw_line: str, line_no: int, plain: bool) -> None:
        """One line, every check; `plain` says its batch holds no control character to look for."""
        line = raw_line.rstrip("\r\n")
        if not line or line.isspace():
            return
        if not plain and _BAD_LINE.search(line):  # NUL or another control character, or a runaway line
            self._bad(line, line_no, "bad_row", "line is too long or holds NUL or control characters")
            return
        fields = line.split("\t")
        if self.prefix:
            if fields[0].strip() != self.prefix:
                raise UploadRejected(
                    "other_school",
                    f"{self.name} line {line_no} starts with school prefix "
                    f"{fields[0].strip()[:64]!r}, not {self.prefix!r}: it carries another school's rows.",
                    file=self.name,
                    line=line_no,
                )
            fields = fields[1:]
        if len(fields) < self.width:
            self._bad(
                fields[0],
                line_no,
                "too_few_columns",
                f"row has {len(fields)} columns, expected {self.width} ({self.expected})",
            )
            return
        self.tally.good += 1
        # The whole line is free of control characters; a short line holds no over-long value.
        checked = len(line) <= MAX_TEXT_LENGTH
        if self.entity == ENROLLMENTS:
            self.builder.add_enrollment(
                self.school_id, fields[1], fields[0], self.name, line_no, checked=checked
            )
        else:
            values = tuple(fields[1 : self.width])
            self.builder.add(
                self.school_id, self.entity, fields[0], values, self.name, line_no, checked=checked
            )

    def _bad(self, text: str, line_no: int, code: str, problem: str) -> None:
        """A skipped row: counted, reported, and its record (if its id can be read) kept as stored."""
        self.tally.bad_row(line_no)
        if self.entity != ENROLLMENTS and text != OVERLONG_LINE[:-1]:
            self.builder.skipped(self.school_id, self.entity, text.split("\t", 1)[0].replace("\x00", ""))
        self.builder.issues.warn(self.name, line_no, code, f"{problem}; row skipped")


def _tabs_per_line(chunk: str, lines: int) -> int | None:
    """How many tabs each of a plain chunk's lines holds, if they all hold as many.

    Compares the chunk's tabs and line ends, as bytes, with that many tabs per line: two C passes
    over the chunk instead of counting the tabs of every line one call at a time.
    """
    shape = chunk.encode().translate(None, _NOT_TAB_OR_LF)
    if not shape.endswith(b"\n"):
        shape += b"\n"  # the file's last line, without a line end
    tabs = shape.find(b"\n")
    return tabs if shape == (b"\t" * tabs + b"\n") * lines else None


def _display(kind: str) -> str:
    return {"studentsections": "StudentSections.txt"}.get(kind, kind.capitalize() + ".txt")
