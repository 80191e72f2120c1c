"""A CSV file with a header row (OneRoster, SDS), read as a stream a chunk of rows at a time.

Most of a roster export is plain text without a single quote character, and a chunk of such lines
is split at its commas in C: exactly what csv.reader makes of it, at a fraction of the cost. Any
other chunk goes through csv.reader, which reads on into the following chunks while the quote
characters it has seen are odd in number, since a quoted value may hold line ends and a chunk may
end inside one. (Where a file's quoting is broken, that count can mislead; its chunks are then each
still read, though not necessarily as one unbroken csv.reader would read them.)
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from operator import itemgetter

from sis_imports.formats.archive import UploadArchive
from sis_imports.formats.common import RowTally
from sis_imports.formats.text import OVERLONG_LINE, TextFile
from sis_imports.issues import IssueLog
from sis_imports.model import UploadRejected

# Rows csv.reader hands over at once; a plain chunk is one text chunk's lines.
CHUNK_ROWS = 2048

csv.field_size_limit(1 << 20)


@dataclass
class Chunk:
    """Rows, and the line each ends on. Rows split from plain text that all have as many values keep
    them as one flat list, `width` to a row, and make row lists only if asked."""

    lines: Sequence[int]
    flat: list[str] | None = None
    width: int = 0
    plain: bool = False  # from plain text: no NUL and no runaway line to look for
    failure: csv.Error | None = None  # a row csv could not read, ending on lines[0]
    _rows: list[list[str]] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def column(self, index: int) -> list[str]:
        if self.flat is not None:
            return self.flat[index :: self.width]
        return list(map(itemgetter(index), self.rows))

    def row(self, index: int) -> list[str]:
        if self.flat is not None:
            return self.flat[index * self.width : (index + 1) * self.width]
        return self.rows[index]

    @property
    def rows(self) -> list[list[str]]:
        if self._rows is None:
            flat, width = self.flat or [], self.width
            self._rows = [flat[start : start + width] for start in range(0, len(flat), width)]
        return self._rows

    def after_first_row(self) -> Chunk:
        if self.flat is not None:
            return Chunk(self.lines[1:], self.flat[self.width :], self.width, self.plain)
        return Chunk(self.lines[1:], plain=self.plain, _rows=self.rows[1:])


class CsvFile:
    """A CSV file with a header row. Columns are found by name, case-insensitively."""

    def __init__(self, archive: UploadArchive, key: str, required: Sequence[str], issues: IssueLog):
        self.name = archive.members[key].name
        self._context = archive.open(key)
        self._text = TextFile(self._context.__enter__())
        self._texts = self._text.texts()
        self._issues = issues
        self._lines_read = 0  # physical lines before the next text chunk
        self._raw = self._raw_chunks()
        first = next(self._raw, None)
        if first is None:
            self.close()
            raise UploadRejected(
                "empty_file", f"{self.name} is empty; it needs at least a header row.", file=self.name
            )
        if first.failure is not None:
            self.close()
            raise UploadRejected(
                "missing_column",
                f"{self.name}'s header row cannot be read as CSV ({first.failure}).",
                file=self.name,
                line=1,
            )
        header = first.row(0)
        self._first: Chunk | None = first.after_first_row()
        self.columns = {name.strip().lower(): index for index, name in enumerate(header) if name.strip()}
        self.width = max(self.columns.values(), default=-1) + 1
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

    def column(self, chunk: Chunk, name: str) -> list[str] | None:
        """One column of a chunk, or None when the header has no such column."""
        index = self.index(name)
        return None if index is None else chunk.column(index)

    def rows(self, tally: RowTally) -> Iterator[tuple[int, list[str]]]:
        """Yields (line number, row), one row at a time, for readers that need no speed."""
        for chunk in self.chunks(tally):
            yield from zip(chunk.lines, chunk.rows, strict=True)

    def chunks(self, tally: RowTally) -> Iterator[Chunk]:
        """The data rows a chunk at a time, each row at least as wide as the header.

        Blank lines are dropped; rows csv cannot read, and lines too long or holding NUL bytes, are
        tallied, reported and skipped. A chunk's own warnings come before those about its rows.
        """
        first, self._first = self._first, None
        for raw in self._raw if first is None else _prepend(first, self._raw):
            chunk = raw if raw.flat is not None and raw.width >= self.width else self._screen(raw, tally)
            if len(chunk):
                yield chunk
        if self._text.used_fallback:
            self._issues.warn(self.name, None, "encoding", "file is not UTF-8; read as Windows-1252")

    # ------------------------------------------------------------------ reading
    def _raw_chunks(self) -> Iterator[Chunk]:
        """Every row of the file, the header first, before any screening."""
        for text, plain in self._texts:
            if plain and '"' not in text:
                yield self._split(text)
            else:
                yield from self._parsed(text, plain)

    def _split(self, text: str) -> Chunk:
        """A plain chunk without quotes, split at its commas: what csv.reader would make of it."""
        lines = TextFile.split_lines(text, True)
        first = self._lines_read + 1
        self._lines_read += len(lines)
        numbers = range(first, first + len(lines))
        commas = list(map(str.count, lines, repeat(",")))
        fewest = min(commas, default=0)
        if fewest and fewest == max(commas):  # as many values on every line, so none is blank
            return Chunk(numbers, ",".join(lines).split(","), fewest + 1, plain=True)
        return Chunk(numbers, plain=True, _rows=[line.split(",") if line else [] for line in lines])

    def _parsed(self, text: str, plain: bool) -> Iterator[Chunk]:
        """Rows from csv.reader, from this text chunk on, for as long as a quoted value stays open."""
        segment = _Segment(self._texts, text, plain)
        reader = csv.reader(segment.lines())
        start = self._lines_read
        while True:
            before = reader.line_num
            rows: list[list[str]] = []
            failure = None
            try:
                # extend() runs the loop in C and keeps the rows read before a failing one.
                rows.extend(islice(reader, CHUNK_ROWS))
            except csv.Error as exc:
                failure = exc
            if rows:
                numbers: Sequence[int] = (
                    range(start + before + 1, start + reader.line_num + 1)
                    if failure is None and reader.line_num - before == len(rows)
                    else _line_numbers(start + before, rows)
                )
                yield Chunk(numbers, plain=not segment.unusual, _rows=rows)
            if failure is not None:
                yield Chunk([start + reader.line_num], failure=failure)
            elif not rows:
                break
        self._lines_read = start + segment.lines_read

    def _screen(self, chunk: Chunk, tally: RowTally) -> Chunk:
        """Drops blank lines, reports unreadable ones and pads short rows, a row at a time only in a
        chunk that needs it."""
        if chunk.failure is not None:
            tally.bad_row(chunk.lines[0])
            self._issues.warn(
                self.name, chunk.lines[0], "bad_row", f"row cannot be read as CSV ({chunk.failure})"
            )
            return Chunk([])
        rows, width = chunk.rows, self.width
        # A row of one value may be a blank line; a header has at least two columns we read.
        if chunk.plain and rows and min(map(len, rows)) >= max(width, 2):
            return chunk
        kept_lines: list[int] = []
        kept: list[list[str]] = []
        overlong = OVERLONG_LINE.rstrip("\n")
        for line, row in zip(chunk.lines, rows, strict=True):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if row[0] == overlong or any("\x00" in value for value in row):
                tally.bad_row(line)
                self._issues.warn(
                    self.name, line, "bad_row", "line is too long or holds NUL bytes; row skipped"
                )
                continue
            kept_lines.append(line)
            kept.append(row + [""] * (width - len(row)) if len(row) < width else row)
        return Chunk(kept_lines, _rows=kept)

    def close(self) -> None:
        self._context.__exit__(None, None, None)

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Segment:
    """Lines for csv.reader: a text chunk's, then the next chunks' while its quotes are odd in number."""

    def __init__(self, texts: Iterator[tuple[str, bool]], text: str, plain: bool):
        self._texts = texts
        self._next: tuple[str, bool] | None = (text, plain)
        self.unusual = False  # a chunk that was not plain has been read
        self.lines_read = 0

    def lines(self) -> Iterator[str]:
        quotes = 0
        while self._next is not None:
            text, plain = self._next
            self.unusual = self.unusual or not plain
            self.lines_read += text.count("\n") + (not text.endswith("\n"))
            yield from TextFile.ended_lines(text, plain)
            quotes += text.count('"')
            self._next = next(self._texts, None) if quotes % 2 else None


def _prepend(first: Chunk, rest: Iterator[Chunk]) -> Iterator[Chunk]:
    yield first
    yield from rest


def _line_numbers(start: int, rows: list[list[str]]) -> list[int]:
    """Each row's last line, after `start`: a row spans one line plus one per line break inside its
    quoted values (which csv keeps as LF)."""
    numbers = []
    line = start
    for row in rows:
        line += 1 + sum(value.count("\n") for value in row)
        numbers.append(line)
    return numbers
