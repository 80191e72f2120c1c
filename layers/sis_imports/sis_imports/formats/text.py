"""Turns a file's bytes into lines of text, as a stream.

UTF-8, with or without a byte-order mark, is expected. Bytes that are not UTF-8 are read
as Windows-1252 (what Excel on Windows writes) and the file gets one warning. CRLF and LF
both work (a lone CR does not end a line). Lines longer than MAX_LINE are replaced by
OVERLONG_LINE so that one runaway line can neither exhaust memory nor hide the rows after it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from itertools import repeat
from operator import add
from typing import IO

MAX_LINE = 1 << 20  # 1 MiB: far past any real roster row
CHUNK = 1 << 18
OVERLONG_LINE = "\x00overlong\x00\n"
_ERRORS = "sis-imports-cp1252"
# Control characters other than tab, LF and CR. Looked for in the bytes, before decoding: in UTF-8
# (and in the Windows-1252 fallback) a byte below 0x80 is always that ASCII character itself.
_UNUSUAL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_USUAL_BYTES = bytes(b for b in range(256) if b not in _UNUSUAL_BYTES)


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
        self._raw = raw
        self._hits_before = _FallbackTally.hits

    @property
    def used_fallback(self) -> bool:
        return _FallbackTally.hits > self._hits_before

    @staticmethod
    def ended_lines(text: str, plain: bool) -> Iterable[str]:
        """A chunk's lines, each with a line end (csv.reader needs them inside quoted values)."""
        if not text.endswith("\n"):
            text += "\n"  # the last line of a file without a final line end
        if plain and text.isascii():  # no CR but in CRLF, no separator splitlines() would also split at
            return text.splitlines(keepends=True)
        return map(add, text[:-1].split("\n"), repeat("\n"))

    @staticmethod
    def split_lines(text: str, plain: bool) -> list[str]:
        """A chunk's lines without their line ends; a plain chunk's CRLFs go too (others keep the CR)."""
        crs = text.count("\r") if plain else 0
        if crs and crs == text.count("\n"):  # every line ends in CRLF
            lines = text.split("\r\n")
        else:
            lines = (text.replace("\r\n", "\n") if crs else text).split("\n")
        if not lines[-1]:
            lines.pop()  # after the last line end
        return lines

    def texts(self) -> Iterator[tuple[str, bool]]:
        """The file's text a chunk of whole lines at a time, each chunk ending in LF (but perhaps the
        last), and whether it is plain: no control character but tabs, no lone CR and no runaway
        line. Plain chunks let a parser skip per-line checks.
        Bounded whatever the file holds: a line longer than MAX_LINE is dropped as it comes and
        stands as OVERLONG_LINE."""
        read = self._raw.read
        decode = codecs.getincrementaldecoder("utf-8-sig")(errors=_ERRORS).decode
        partial, partial_clean = "", True
        skipping = False  # inside a runaway line, dropping text until its end
        while raw := read(CHUNK):
            # One C-speed pass over the bytes instead of one search per line.
            clean = not raw.translate(None, _USUAL_BYTES)
            text = partial + decode(raw)
            end = text.rfind("\n") + 1
            if not end:  # no line ends here: the partial line goes on
                partial, partial_clean = text, partial_clean and clean
            else:
                whole, plain = text[:end], clean and partial_clean
                partial, partial_clean = text[end:], clean
                if skipping:
                    whole = OVERLONG_LINE + whole[whole.index("\n") + 1 :]
                    skipping, plain = False, False
                yield whole, plain and _no_lone_cr(whole)
            if len(partial) > MAX_LINE:
                partial, skipping = "", True
        text = partial + decode(b"", True)
        if skipping:
            yield OVERLONG_LINE, False
        elif text:
            yield text, partial_clean and "\r" not in text

    def close(self) -> None:
        self._raw.close()


def _no_lone_cr(text: str) -> bool:
    # Looking for a CR at all is one fast scan; counting CRLFs is three times slower, so only then.
    return "\r" not in text or text.count("\r") == text.count("\r\n")
