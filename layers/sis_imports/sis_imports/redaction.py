"""Masks personal data (e-mail addresses, phone numbers, dates of birth) in free text.

Parsers never copy a row into a message, only ids and file positions; this is the second
fence, applied to every issue message and log line that could carry upload text.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Seven or more digits, optionally split by spaces, dots, dashes or brackets: phone numbers.
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w-])")
# Calendar dates in the shapes SIS exports use for birthdates.
_DATE = re.compile(r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2})\b")

MASK = "[redacted]"


def redact(text: str) -> str:
    text = _EMAIL.sub(MASK, text)
    text = _PHONE.sub(MASK, text)
    return _DATE.sub(MASK, text)
