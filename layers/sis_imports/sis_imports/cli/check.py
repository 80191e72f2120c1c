"""`sis-imports check PATH`: read an upload exactly as the importer would, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sis_imports.formats import Scope, read_upload
from sis_imports.issues import IssueLog
from sis_imports.model import ENTITIES, UploadRejected

# A Sloopy set without school prefixes is one school's upload; check it as such.
UNNAMED_SCHOOL = "SCHOOL"


def check_upload(path: Path, district_id: str = "check", school_id: str | None = None) -> dict[str, Any]:
    issues = IssueLog()
    report: dict[str, Any] = {"path": str(path), "format": None, "ok": False, "files": {}, "schools": {}}
    try:
        try:
            upload = read_upload(path, Scope(district_id, school_id), issues)
        except UploadRejected as exc:
            if school_id is not None or exc.code != "missing_school_prefix":
                raise
            issues = IssueLog()
            upload = read_upload(path, Scope(district_id, UNNAMED_SCHOOL), issues)
        report.update(
            format=upload.format,
            ok=True,
            files=upload.file_rows,
            schools={school: snapshot.counts() for school, snapshot in sorted(upload.schools.items())},
        )
    except UploadRejected as exc:
        issues.error(exc.file, exc.line, exc.code, exc.message)
    report.update(
        warnings=[w.as_dict() for w in issues.warnings],
        errors=[e.as_dict() for e in issues.errors],
        warning_count=issues.warning_count,
        error_count=issues.error_count,
    )
    return report


def render(report: dict[str, Any]) -> str:
    lines = [f"{report['path']}: {'would import' if report['ok'] else 'would FAIL'}"]
    if report["format"]:
        lines.append(f"format: {report['format']}")
    for name, rows in report["files"].items():
        lines.append(f"  {name}: {rows} rows")
    for school, counts in report["schools"].items():
        lines.append(f"school {school}: " + ", ".join(f"{counts[e]} {e}" for e in ENTITIES))
    for kind in ("errors", "warnings"):
        for issue in report[kind]:
            where = ":".join(str(p) for p in (issue["file"], issue["line"]) if p is not None) or "upload"
            lines.append(f"{kind[:-1]}: {where}: {issue['message']} [{issue['code']}]")
        shown, total = len(report[kind]), report[f"{kind[:-1]}_count"]
        if total > shown:
            lines.append(f"... and {total - shown} more {kind}")
    return "\n".join(lines)


def run(path: Path, as_json: bool, school_id: str | None, *, strict: bool = False) -> int:
    """0 when the upload would import (with --strict: and without a warning), 1 otherwise."""
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    report = check_upload(path, school_id=school_id)
    print(json.dumps(report, indent=2) if as_json else render(report))
    return 0 if report["ok"] and not (strict and report["warning_count"]) else 1
