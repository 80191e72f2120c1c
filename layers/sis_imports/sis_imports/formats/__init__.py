"""Reads an upload in any supported format into per-school roster snapshots.

The zip's contents decide the format; see docs/formats.md for each format's columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sis_imports.bulk import paused_gc
from sis_imports.formats import oneroster, sds, sloopy
from sis_imports.formats.archive import UploadArchive, open_upload
from sis_imports.formats.common import FileStats, Scope
from sis_imports.issues import IssueLog
from sis_imports.model import UploadRejected
from sis_imports.snapshot import SchoolSnapshot, SnapshotBuilder

SLOOPY = "sloopy"
ONEROSTER = "oneroster"
SDS = "sds"

Parser = Callable[[UploadArchive, SnapshotBuilder, Scope, FileStats], None]
# Checked in order: a OneRoster bundle or SDS set never has Sloopy .txt files, but be explicit.
FORMATS: tuple[tuple[str, Callable[[UploadArchive], bool], Parser], ...] = (
    (ONEROSTER, oneroster.matches, oneroster.parse),
    (SDS, sds.matches, sds.parse),
    (SLOOPY, sloopy.matches, sloopy.parse),
)

__all__ = ["ParsedUpload", "Scope", "UploadRejected", "read_upload"]


@dataclass
class ParsedUpload:
    format: str
    schools: dict[str, SchoolSnapshot]
    file_rows: dict[str, int]


def detect(archive: UploadArchive) -> tuple[str, Parser]:
    for name, matches, parser in FORMATS:
        if matches(archive):
            return name, parser
    found = ", ".join(sorted(member.name for member in archive.members.values())[:10]) or "no files"
    raise UploadRejected(
        "unknown_format",
        "Not a roster export: expected a Sloopy set (Students.txt, Teachers.txt, Courses.txt, Sections.txt, "
        "StudentSections.txt), a OneRoster bundle (manifest.csv, users.csv, ...) or an SDS v1 set "
        f"(School.csv, Student.csv, ...). Found: {found}.",
    )


def read_upload(path: Path, scope: Scope, issues: IssueLog) -> ParsedUpload:
    """Reads the whole upload; raises UploadRejected for structural problems."""
    archive = open_upload(path, issues)
    try:
        name, parser = detect(archive)
        builder = SnapshotBuilder(issues)
        stats = FileStats()
        with paused_gc():
            parser(archive, builder, scope, stats)
            schools = builder.finish()
    finally:
        archive.close()
    if not schools:
        raise UploadRejected("no_schools", "The upload names no school with any roster rows.")
    return ParsedUpload(name, schools, stats.rows)
