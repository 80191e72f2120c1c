"""Turns a file's bytes into lines of text, as a stream.

UTF-8, with or without a byte-order mark, is expected. Bytes that are not UTF-8 are read
as Windows-1252 (what Excel on Windows writes) and the file gets one warning. CRLF and LF
both work (a lone CR does not end a line). Lines longer than MAX_LINE are replaced by OVERLONG_LINE so that one runaway
line can neither exhaust memory nor hide the rows after it.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import IO

MAX_LINE = 1 << 20  # 1 MiB: far past any real roster row
CHUNK = 1 << 18
OVERLONG_LINE = "\x00overlong\x00\n"
_ERRORS = "sis-imports-cp1252"


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
        """Lines with their endings, read a chunk at a time: fast, and bounded whatever the file holds."""
        read = self._text.read
        partial = ""
        skipping = False  # inside a runaway line, dropping text until its end
        while chunk := read(CHUNK):
            # Split on LF only (CRLF keeps its CR, which callers strip): splitlines() would also
            # break on form feeds and Unicode separators that may sit inside a value.
            parts = (partial + chunk).split("\n")
            partial = parts.pop()
            if skipping and parts:
                parts[0] = OVERLONG_LINE[:-1]
                skipping = False
            for part in parts:
                yield part + "\n"
            if len(partial) > MAX_LINE:
                partial, skipping = "", True
        if skipping:
            yield OVERLONG_LINE
        elif partial:
            yield partial

    def close(self) -> None:
        self._text.close()
