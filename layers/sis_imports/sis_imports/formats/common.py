"""Pieces every format's parser shares: the upload's scope, row tallies and CSV files with headers."""

from __future__ import annotations

from dataclasses import dataclass, field

from sis_imports.model import SCHOOL_ID_PATTERN, UploadRejected

# A file whose bad rows outnumber its good ones is not the file we think it is.
MOST_ROWS_BAD = 0.5


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
        self.first_bad_line: int | None = None

    def bad_row(self, line: int | None) -> None:
        self.bad += 1
        if self.first_bad_line is None:
            self.first_bad_line = line

    def check(self, stats: FileStats) -> None:
        stats.rows[self.file] = self.good + self.bad
        if self.bad and self.bad > MOST_ROWS_BAD * (self.good + self.bad):
            first = f", the first at line {self.first_bad_line}" if self.first_bad_line else ""
            raise UploadRejected(
                "wrong_columns",
                f"{self.bad} of {self.good + self.bad} rows in {self.file} could not be read "
                f"(expected {self.expected}){first}. Check that the export is the right file and format.",
                file=self.file,
                line=self.first_bad_line,
            )


def split_list(value: str) -> list[str]:
    """OneRoster packs several ids into one quoted field, comma-separated."""
    return [part.strip() for part in value.split(",") if part.strip()]
