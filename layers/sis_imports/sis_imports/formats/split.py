"""Splits a district bundle into one upload per school, in one streaming pass per file.

A Sloopy bundle's files are each one school's already and are copied into that school's part as
they are. OneRoster and SDS rows go to a folder per school under /tmp as they are read, then each
folder is zipped. No school's roster is held in memory, only small id maps (a section's or class's
school, a course's schools, a user's schools). Each part is an upload of the same format, so the per-school
import reads it exactly as it reads a school's own upload, with the same checks and warnings.
"""

from __future__ import annotations

import csv
import shutil
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sis_imports.formats import ONEROSTER, SDS, SLOOPY, detect
from sis_imports.formats.archive import UploadArchive, open_upload
from sis_imports.formats.common import RowTally, Scope, split_list
from sis_imports.formats.csv_file import CsvFile
from sis_imports.formats.oneroster import check_bulk_bundle
from sis_imports.formats.sds import FILES, check_files
from sis_imports.formats.sloopy import FILE_NAME
from sis_imports.issues import IssueLog
from sis_imports.model import UploadRejected


def split_bundle(path: Path, district_id: str, folder: Path, issues: IssueLog) -> tuple[str, dict[str, Path]]:
    """(format, {school id: part zip}) for a district bundle; raises UploadRejected as read_upload does."""
    archive = open_upload(path, issues)
    parts = _Parts(folder, Scope(district_id))
    try:
        name, _ = detect(archive)
        splitters: dict[str, Callable[[UploadArchive, _Parts, IssueLog], None]] = {
            SLOOPY: _split_sloopy,
            SDS: _split_sds,
            ONEROSTER: _split_oneroster,
        }
        splitters[name](archive, parts, issues)
    finally:
        parts.close()
        archive.close()
    zips = parts.zip_all()
    if not zips:
        raise UploadRejected("no_schools", "The upload names no school with any roster rows.")
    return name, zips


# Stored, not compressed: a part lives in work/ for a day and is read once, and compressing it cost
# the split as much as reading the whole bundle.
PART_COMPRESSION = zipfile.ZIP_STORED


class _Parts:
    """Each school's part: CSV rows written into a folder of its own as they are read (OneRoster,
    SDS) and zipped at the end, or whole files copied straight into its zip (Sloopy)."""

    def __init__(self, folder: Path, scope: Scope):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.scope = scope
        self.schools: set[str] = set()
        self._writers: dict[tuple[str, str], Any] = {}
        self._files = ExitStack()

    def school(self, sis_school_id: str, file: str, line: int | None) -> str:
        school = self.scope.school_for(sis_school_id, file=file, line=line)
        self.schools.add(school)
        return school

    def path(self, school: str, file_name: str) -> Path:
        target = self.folder / school / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, school: str, file_name: str, header: list[str], row: list[str] | None = None) -> None:
        """Appends a row to the school's copy of a CSV file (created with its header on first use)."""
        writer = self._writers.get((school, file_name))
        if writer is None:
            target = self.path(school, file_name)
            new = not target.exists()
            handle = self._files.enter_context(target.open("a", encoding="utf-8", newline=""))
            writer = self._writers[(school, file_name)] = csv.writer(handle, lineterminator="\r\n")
            if new:
                writer.writerow(header)
        if row is not None:
            writer.writerow(row)

    def close(self) -> None:
        """Closes every open part file. Called after each source file, so a district of many
        schools holds one open file per school, well inside Lambda's 1,024 descriptors."""
        self._files.close()
        self._files = ExitStack()
        self._writers.clear()

    def copy_whole(self, school: str, file_name: str, source: IO[bytes]) -> None:
        """Copies a file as it is straight into the school's part (a Sloopy file is one school's)."""
        with (
            zipfile.ZipFile(self._part(school), "a", PART_COMPRESSION) as part,
            part.open(file_name, "w") as sink,
        ):
            shutil.copyfileobj(source, sink, 1 << 20)

    def zip_all(self) -> dict[str, Path]:
        """Each school's part: the files written into its folder, added to whatever was copied whole."""
        zips = {}
        for school in sorted(self.schools):
            folder = self.folder / school
            if folder.is_dir():
                with zipfile.ZipFile(self._part(school), "a", PART_COMPRESSION) as part:
                    for file in sorted(folder.iterdir()):
                        part.write(file, file.name)
            zips[school] = self._part(school)
        return zips

    def _part(self, school: str) -> Path:
        return self.folder / f"{school}.zip"


def _rows(
    archive: UploadArchive, key: str, issues: IssueLog, required: tuple[str, ...]
) -> Iterator[tuple[CsvFile, int, list[str]]]:
    with CsvFile(archive, key, required, issues) as source:
        tally = RowTally(source.name, ", ".join(required))
        for line, row in source.rows(tally):
            tally.good += 1
            yield source, line, row


def _header(archive: UploadArchive, key: str) -> list[str]:
    with archive.open(key) as raw:
        first = raw.readline(1 << 16).decode("utf-8-sig", errors="replace")
    return next(csv.reader([first]), [])


def _value(source: CsvFile, row: list[str], column: str) -> str:
    index = source.index(column)
    return row[index].strip() if index is not None else ""


# ---------------------------------------------------------------- Sloopy: the files are per school already
def _split_sloopy(archive: UploadArchive, parts: _Parts, issues: IssueLog) -> None:
    for key, member in archive.members.items():
        base = PurePosixPath(member.name).name
        found = FILE_NAME.match(base)
        if not found:
            continue
        if found.group("prefix") is None:
            raise UploadRejected(
                "missing_school_prefix",
                f"{member.name} has no school prefix. In a district "
                "bundle each file is named <school>_<File>.txt, for example CTS_Students.txt.",
                file=member.name,
            )
        school = parts.school(found.group("prefix"), member.name, None)
        # The bytes as they are: the school's import decodes and checks them.
        with archive.open(key) as source:
            parts.copy_whole(school, base, source)


# ---------------------------------------------------------------- SDS
def _split_sds(archive: UploadArchive, parts: _Parts, issues: IssueLog) -> None:
    check_files(archive)
    headers = {key: _header(archive, key) for key in FILES}
    names = {key: archive.members[key].name for key in FILES}
    section_school: dict[str, str] = {}
    for key, column in (
        ("school.csv", "SIS ID"),
        ("section.csv", "School SIS ID"),
        ("student.csv", "School SIS ID"),
        ("teacher.csv", "School SIS ID"),
    ):
        for source, line, row in _rows(archive, key, issues, (column,)):
            school = parts.school(_value(source, row, column), source.name, line)
            if key == "section.csv":
                section_school[_value(source, row, "SIS ID")] = school
            parts.write(school, names[key], headers[key], row)
        parts.close()
    for key in ("studentenrollment.csv", "teacherroster.csv"):
        for source, _line, row in _rows(archive, key, issues, ("Section SIS ID", "SIS ID")):
            section_of = section_school.get(_value(source, row, "Section SIS ID"))
            if section_of is not None:  # a row of no known section is in no school's part
                parts.write(section_of, names[key], headers[key], row)
        parts.close()
    for school in parts.schools:  # every part has all six files, if only a header
        for key in FILES:
            parts.write(school, names[key], headers[key])
        parts.close()


# ---------------------------------------------------------------- OneRoster
_COPIED_WHOLE = ("manifest.csv", "orgs.csv", "academicsessions.csv")


def _split_oneroster(archive: UploadArchive, parts: _Parts, issues: IssueLog) -> None:
    check_bulk_bundle(archive, issues)
    key = archive.find("classes.csv")
    assert key is not None  # noqa: S101 - check_bulk_bundle requires it
    class_school: dict[str, str] = {}
    course_schools: dict[str, set[str]] = {}
    header = _header(archive, key)
    for source, line, row in _rows(archive, key, issues, ("sourcedId", "courseSourcedId", "schoolSourcedId")):
        school = parts.school(_value(source, row, "schoolSourcedId"), source.name, line)
        class_school[_value(source, row, "sourcedId")] = school
        course_schools.setdefault(_value(source, row, "courseSourcedId"), set()).add(school)
        parts.write(school, source.name, header, row)
    parts.close()
    schools = set(parts.schools)

    user_schools: dict[str, set[str]] = {}
    routes: list[tuple[str, tuple[str, ...], Callable[[CsvFile, list[str]], set[str]]]] = [
        (
            "courses.csv",
            ("sourcedId",),
            lambda s, r: (
                course_schools.get(_value(s, r, "sourcedId"), set())
                | ({_value(s, r, "orgSourcedId")} & schools)
            ),
        ),
        (
            "enrollments.csv",
            ("classSourcedId",),
            lambda s, r: (
                {class_school[c]} if (c := _value(s, r, "classSourcedId")) in class_school else set()
            ),
        ),
        (
            "roles.csv",
            ("userSourcedId", "orgSourcedId"),
            lambda s, r: _role_schools(s, r, schools, user_schools),
        ),
        ("users.csv", ("sourcedId",), lambda s, r: _user_schools(s, r, schools, user_schools)),
    ]
    for file_name, required, schools_of in routes:
        key = archive.find(file_name)
        if key is None:
            continue
        header = _header(archive, key)
        for school in schools:
            parts.write(school, archive.members[key].name, header)
        for source, _line, row in _rows(archive, key, issues, required):
            for school in schools_of(source, row):
                parts.write(school, source.name, header, row)
        parts.close()
    for file_name in _COPIED_WHOLE:
        key = archive.find(file_name)
        if key is None:
            continue
        for school in schools:
            with (
                archive.open(key) as whole,
                parts.path(school, archive.members[key].name).open("wb") as sink,
            ):
                shutil.copyfileobj(whole, sink)


def _role_schools(
    source: CsvFile, row: list[str], schools: set[str], user_schools: dict[str, set[str]]
) -> set[str]:
    org = _value(source, row, "orgSourcedId")
    if org in schools:
        user_schools.setdefault(_value(source, row, "userSourcedId"), set()).add(org)
        return {org}
    return set()


def _user_schools(
    source: CsvFile, row: list[str], schools: set[str], user_schools: dict[str, set[str]]
) -> set[str]:
    orgs = {
        org
        for column in ("orgSourcedIds", "primaryOrgSourcedId")
        for org in split_list(_value(source, row, column))
    }
    return (orgs & schools) | user_schools.get(_value(source, row, "sourcedId"), set())
