"""Warnings and errors found while reading an upload, capped so a bad file cannot flood a record."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sis_imports.redaction import redact

MAX_LISTED = 100


@dataclass(frozen=True, slots=True)
class Issue:
    file: str | None
    line: int | None
    code: str
    message: str
    school_id: str | None = None  # set when the issue concerns one school of a district bundle

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "code": self.code, "message": self.message}


@dataclass
class IssueLog:
    """Collects issues; keeps the first MAX_LISTED of each kind per school and counts them all."""

    warnings: list[Issue] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warning_count: int = 0
    error_count: int = 0
    # Per-school counts, so each school's record of a district bundle counts its own issues.
    _counts: Counter[tuple[str, str | None]] = field(default_factory=Counter)

    def warn(
        self, file: str | None, line: int | None, code: str, message: str, school_id: str | None = None
    ) -> None:
        self.warning_count += 1
        self._counts["warning", school_id] += 1
        if self._counts["warning", school_id] <= MAX_LISTED:
            self.warnings.append(Issue(file, line, code, redact(message), school_id))

    def error(
        self, file: str | None, line: int | None, code: str, message: str, school_id: str | None = None
    ) -> None:
        self.error_count += 1
        self._counts["error", school_id] += 1
        if self._counts["error", school_id] <= MAX_LISTED:
            self.errors.append(Issue(file, line, code, redact(message), school_id))

    def for_school(self, school_id: str | None) -> dict[str, Any]:
        """The issues a school's record shows: its own, and those of the upload as a whole."""

        def mine(issues: list[Issue]) -> list[dict[str, Any]]:
            picked = [issue.as_dict() for issue in issues if issue.school_id in (None, school_id)]
            return picked[:MAX_LISTED]

        return {
            "warnings": mine(self.warnings),
            "errors": mine(self.errors),
            "warning_count": self._counts["warning", None]
            + (self._counts["warning", school_id] if school_id else 0),
            "error_count": self._counts["error", None]
            + (self._counts["error", school_id] if school_id else 0),
        }
