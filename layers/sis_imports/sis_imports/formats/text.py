"""Turns a file's bytes into lines of text, as a stream.

UTF-8, with or without a byte-order mark, is expected. Bytes that are not UTF-8 are read
as Windows-1252 (what Excel on Windows writes) and the file gets one warning. CRLF and LF
both work (a lone CR does not end a line). Lines longer than MAX_LINE are replaced by OVERLONG_LINE so that one runaway
line can neither exhaust memory nor hide the rows after it.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from typing import IO

MAX_LINE = 1 << 20  # 1 MiB: far past any real roster row
CHUNK = 1 << 18
OVERLONG_LINE = "\x00overlong\x00\n"
_ERRORS = "sis-imports-cp1252"
# Control characters other than tab, LF and CR: a chunk without them needs no per-line check.
_UNUSUAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _FallbackTally:
    """Counts fallback decodes. Lambda runs one event at a time, so a plain counter is enough."""

    hits = 0


def _decode_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _FallbackTally.hits += 1
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


codecs.register_error(_ERRORS, _decode_as_cp1252)


class TextFile:
    """Lines of one file. After reading, `used_fallback` says whether any byte was not UTF-8."""

    def __init__(self, raw: IO[bytes]):
        self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors=_ERRORS, newline="")
        self._hits_before = _FallbackTally.hits

    @property
    def used_fallback(self) -> bool:
        return _FallbackTally.hits > self._hits_before

    def lines(self) -> Iterator[str]:
        """Lines with their endings (csv.reader needs them inside quoted values)."""
        for batch, _plain in self.batches():
            for line in batch:
                yield line + "\n"

    def batches(self) -> Iterator[tuple[list[str], bool]]:
        """A chunk's worth of lines at a time, without their LF (a CR before it stays), and whether
        they are plain: no control character but tabs and CRLF line ends, and no runaway line.
        Plain batches let a parser skip per-line checks. Bounded whatever the file holds."""
        read = self._text.read
        partial = ""
        skipping = False  # inside a runaway line, dropping text until its end
        while chunk := read(CHUNK):
            text = partial + chunk
            # One C-speed pass over the chunk instead of one search per line.
            plain = not _UNUSUAL.search(text) and text.count("\r") == text.count("\r\n")
            # Split on LF only (CRLF keeps its CR, which callers strip): splitlines() would also
            # break on form feeds and Unicode separators that may sit inside a value.
            parts = text.split("\n")
            partial = parts.pop()
            if skipping and parts:
                parts[0] = OVERLONG_LINE[:-1]
                skipping, plain = False, False
            if parts:
                yield parts, plain
            if len(partial) > MAX_LINE:
                partial, skipping = "", True
        if skipping:
            yield [OVERLONG_LINE[:-1]], False
        elif partial:
            yield [partial], not _UNUSUAL.search(partial) and "\r" not in partial

    def close(self) -> None:
        self._text.close()
