"""Pieces every format's parser shares: the upload's scope, row tallies and CSV files with headers."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sis_imports.formats.archive import UploadArchive
from sis_imports.formats.text import OVERLONG_LINE, TextFile
from sis_imports.issues import IssueLog
from sis_imports.model import UploadRejected

SCHOOL_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A file whose bad rows outnumber its good ones is not the file we think it is.
MOST_ROWS_BAD = 0.5

csv.field_size_limit(1 << 20)


@dataclass(frozen=True)
class Scope:
    """Whose upload this is, from the S3 key: a district bundle, or one school's upload."""

    district_id: str
    school_id: str | None = None
    sloopy_data_prefix: str | None = None

    def school_for(self, sis_school_id: str, *aliases: str, file: str, line: int | None) -> str:
        """Maps a school named in the file to the school the roster is kept under."""
        if self.school_id is None:
            if not SCHOOL_ID_PATTERN.match(sis_school_id):
                raise UploadRejected(
                    "bad_school_id",
                    f"{file} line {line}: school id {sis_school_id[:64]!r} "
                    "has characters a school id cannot have.",
                    file=file,
                    line=line,
                )
            return sis_school_id
        if self.school_id in (sis_school_id, *aliases):
            return self.school_id
        raise UploadRejected(
            "other_school",
            f"{file} line {line} carries rows for school {sis_school_id[:64]}, but this upload is for school "
            f"{self.school_id}. Upload each school under its own key, or a district bundle under "
            f"uploads/{self.district_id}/.",
            file=file,
            line=line,
        )


@dataclass
class FileStats:
    """Rows read per file, for the import record and `sis-imports check`."""

    rows: dict[str, int] = field(default_factory=dict)


class RowTally:
    """Counts one file's good and bad rows and refuses the upload when most are bad."""

    def __init__(self, file: str, expected: str):
        self.file = file
        self.expected = expected
        self.good = 0
        self.bad = 0

    def check(self, stats: FileStats) -> None:
        stats.rows[self.file] = self.good + self.bad
        if self.bad and self.bad > MOST_ROWS_BAD * (self.good + self.bad):
            raise UploadRejected(
                "wrong_columns",
                f"{self.bad} of {self.good + self.bad} rows in {self.file} could not be read ({self.expected}). "
                "Check that the export is the right file and format.",
                file=self.file,
            )


class CsvFile:
    """A CSV file with a header row, read as a stream. Columns are found by name, case-insensitively."""

    def __init__(self, archive: UploadArchive, key: str, required: Sequence[str], issues: IssueLog):
        self.name = archive.members[key].name
        self._context = archive.open(key)
        self._text = TextFile(self._context.__enter__())
        self._issues = issues
        self._reader = csv.reader(self._text.lines())
        header = next(self._reader, None)
        if header is None:
            self.close()
            raise UploadRejected(
                "empty_file", f"{self.name} is empty; it needs at least a header row.", file=self.name
            )
        self.columns = {name.strip().lower(): index for index, name in enumerate(header) if name.strip()}
        missing = [name for name in required if name.lower() not in self.columns]
        if missing:
            self.close()
            raise UploadRejected(
                "missing_column",
                f"{self.name} has no column {', '.join(missing)} in its header row.",
                file=self.name,
                line=1,
            )

    def index(self, name: str) -> int | None:
        return self.columns.get(name.lower())

    def rows(self, tally: RowTally) -> Iterator[tuple[int, list[str]]]:
        """Yields (line number, row); blank, NUL-bearing and overlong lines are tallied and skipped."""
        reader = self._reader
        width = max(self.columns.values()) + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                tally.bad += 1
                self._issues.warn(self.name, reader.line_num, "bad_row", f"row cannot be read as CSV ({exc})")
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if row[0] == OVERLONG_LINE.rstrip("\n") or any("\x00" in value for value in row):
                tally.bad += 1
                self._issues.warn(
                    self.name, reader.line_num, "bad_row", "line is too long or holds NUL bytes; row skipped"
                )
                continue
            if len(row) < width:
                row = row + [""] * (width - len(row))
            yield reader.line_num, row
        if self._text.used_fallback:
            self._issues.warn(self.name, None, "encoding", "file is not UTF-8; read as Windows-1252")

    def close(self) -> None:
        self._context.__exit__(None, None, None)

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def split_list(value: str) -> list[str]:
    """OneRoster packs several ids into one quoted field, comma-separated."""
    return [part.strip() for part in value.split(",") if part.strip()]
