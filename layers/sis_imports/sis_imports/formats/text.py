"""Turns a file's bytes into lines of text, as a stream.

UTF-8, with or without a byte-order mark, is expected. Bytes that are not UTF-8 are read
as Windows-1252 (what Excel on Windows writes) and the file gets one warning. CRLF and LF
both work. Lines longer than MAX_LINE are replaced by OVERLONG_LINE so that one runaway
line can neither exhaust memory nor hide the rows after it.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import IO

MAX_LINE = 1 << 20  # 1 MiB: far past any real roster row
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
        readline = self._text.readline
        while True:
            line = readline(MAX_LINE)
            if not line:
                return
            if len(line) == MAX_LINE and line[-1] not in "\r\n":
                # Swallow the rest of the runaway line in bounded pieces.
                while (rest := readline(MAX_LINE)) and rest[-1] not in "\r\n":
                    pass
                yield OVERLONG_LINE
                continue
            yield line

    def close(self) -> None:
        self._text.close()
