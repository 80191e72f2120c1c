"""The fast paths are shortcuts only: each must give exactly what the plain, row-at-a-time reading gives.

- CsvFile splits plain, quote-free text itself and hands the rest to csv.reader; the reference is
  csv.reader over the whole file with the screening rules applied a row at a time.
- The readers add a chunk of rows at once when they can; with that switched off they add every row
  one at a time, and the roster, the skipped ids and the warnings must be the same.
- The diff keeps new records as ids and makes Change objects when they are written; the reference
  compares record by record.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sis_imports.diff import Change, StoredRecord, plan_changes
from sis_imports.formats import Scope, read_upload, text
from sis_imports.formats.archive import open_upload
from sis_imports.formats.common import RowTally
from sis_imports.formats.csv_file import CsvFile
from sis_imports.issues import IssueLog
from sis_imports.model import ENTITIES, FIELDS, NAME_FIELDS, UploadRejected, enrollment_id
from sis_imports.snapshot import SchoolSnapshot, SnapshotBuilder
from sis_imports.synthetic import (
    SyntheticSchool,
    generate_school,
    next_day,
    write_oneroster,
    write_sds,
    write_sloopy,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Values that stress a CSV reader: separators, quotes, line ends inside values, blanks and padding.
cell = st.one_of(
    st.sampled_from(["", " ", "a", "S1", "x,y", 'say "hi"', "two\nlines", "crlf\r\nin", "  pad  ", "é"]),
    st.text(alphabet='ab,"\n \t', max_size=6),
)
table = st.lists(st.lists(cell, min_size=1, max_size=5), min_size=1, max_size=25)


def _reference_rows(
    data: bytes,
) -> tuple[list[str], list[tuple[int, list[str]]], list[tuple[int | None, str]]]:
    """The header, (line, row) pairs and warnings as one csv.reader over the whole text gives them."""
    text_ = data.decode("utf-8-sig")
    lines = text_.split("\n")
    ended = [line + "\n" for line in (lines[:-1] if lines[-1] == "" else lines)]
    reader = csv.reader(ended)
    header = next(reader)
    width = max((i for i, name in enumerate(header) if name.strip()), default=-1) + 1
    rows, warnings = [], []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            warnings.append((reader.line_num, "bad_row"))
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if any("\x00" in value for value in row):
            warnings.append((reader.line_num, "bad_row"))
            continue
        rows.append((reader.line_num, row + [""] * (width - len(row))))
    return header, rows, warnings


def _csv_file_rows(
    tmp: Path, data: bytes
) -> tuple[list[str], list[tuple[int, list[str]]], list[tuple[int | None, str]]]:
    path = tmp / "u.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("users.csv", data)
    archive = open_upload(path, IssueLog())
    issues = IssueLog()
    try:
        with CsvFile(archive, "users.csv", (), issues) as file:
            header = [name for name, _ in sorted(file.columns.items(), key=lambda item: item[1])]
            rows = [
                (line, row[: max(file.width, len(row))]) for line, row in file.rows(RowTally("users.csv", ""))
            ]
    finally:
        archive.close()
    return header, rows, [(w.line, w.code) for w in issues.warnings if w.code != "encoding"]


@FAST
@given(
    header=st.lists(st.sampled_from(["id", "name", "grade", "role"]), min_size=2, max_size=4, unique=True),
    rows=table,
    ending=st.sampled_from(["\n", "\r\n"]),
    blank_after=st.sets(st.integers(0, 30), max_size=3),
    chunk=st.integers(8, 200),
)
def test_csv_file_reads_what_csv_reader_reads(
    tmp_path_factory, monkeypatch_module, header, rows, ending, blank_after, chunk
):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=ending)
    writer.writerow(header)
    for n, row in enumerate(rows):
        writer.writerow(row)
        if n in blank_after:
            out.write(ending)
    data = out.getvalue().encode()
    expected_header, expected_rows, expected_warnings = _reference_rows(data)
    with monkeypatch_module.context() as patch:
        patch.setattr(text, "CHUNK", chunk)  # chunk boundaries everywhere, inside quoted values too
        got_header, got_rows, got_warnings = _csv_file_rows(tmp_path_factory.mktemp("c"), data)
    assert [n.strip().lower() for n in expected_header if n.strip()] == got_header
    # A line end inside a quoted value reads back as LF, whichever the file used.
    assert [(line, [v.replace("\r\n", "\n") for v in row]) for line, row in expected_rows] == [
        (line, [v.replace("\r\n", "\n") for v in row]) for line, row in got_rows
    ]
    assert expected_warnings == got_warnings


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _everything(path: Path, scope: Scope) -> object:
    issues = IssueLog()
    try:
        upload = read_upload(path, scope, issues)
        result: object = {
            s: (snap.records, snap.enrollments, snap.protected) for s, snap in upload.schools.items()
        }
    except UploadRejected as exc:
        result = (exc.code, exc.message)
    return result, [w.as_dict() for w in issues.warnings], [e.as_dict() for e in issues.errors]


# Edits that break rows in the ways the fast paths must hand back: a repeated id, an unknown
# reference, a deleted or inactive row, padding, a short row and a blank line.
def _spoil(content: str, kind: str, seed: int) -> str:
    lines = content.split("\n")
    body = lines[1:-1] if len(lines) > 2 else lines
    if not body:
        return content
    pick = 1 + seed % len(body)
    line = lines[pick] if pick < len(lines) - 1 else lines[1]
    spoiled = {
        "repeat": [line, line],
        "unknown": [line.replace(",", ",ZZ", 1)],
        "deleted": [line.replace("active", "tobedeleted").replace("Active", "Inactive")],
        "padded": [line.replace(",", " , ", 1)],
        "short": [line.split(",")[0]],
        "blank": ["", line],
    }[kind]
    return "\n".join([*lines[:pick], *spoiled, *lines[pick + 1 :]])


@FAST
@given(
    fmt=st.sampled_from(["sloopy", "sds", "oneroster"]),
    kind=st.sampled_from(["repeat", "unknown", "deleted", "padded", "short", "blank", "none"]),
    member=st.integers(0, 10),
    seed=st.integers(0, 10_000),
)
def test_adding_a_chunk_at_once_gives_what_adding_each_row_gives(
    tmp_path_factory, monkeypatch_module, fmt, kind, member, seed
):
    school = generate_school("CTS", students=40, classes_per_student=3, seed=seed)
    writer = {"sloopy": write_sloopy, "sds": write_sds, "oneroster": write_oneroster}[fmt]
    folder = tmp_path_factory.mktemp("f")
    clean = writer([school], folder / "clean.zip")
    with zipfile.ZipFile(clean) as zf:
        files = {name: zf.read(name).decode() for name in zf.namelist()}
    if kind != "none":
        name = sorted(files)[member % len(files)]
        files[name] = _spoil(files[name], kind, seed)
    path = folder / "u.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    scope = Scope("d1", "CTS")
    usual = _everything(path, scope)
    with monkeypatch_module.context() as patch:
        patch.setattr(SnapshotBuilder, "add_rows", lambda *args, **kwargs: False)
        patch.setattr(SnapshotBuilder, "add_enrollment_rows", lambda *args, **kwargs: False)
        assert _everything(path, scope) == usual


def _reference_changes(stored, snapshot: SchoolSnapshot, import_id: str) -> set[Change]:
    changes = set()
    for entity in ENTITIES:
        names = [i for i, f in enumerate(FIELDS[entity]) if f in NAME_FIELDS.get(entity, ())]
        existing = stored.get(entity, {})
        for record_id in snapshot.ids(entity):
            values = snapshot.values(entity, record_id)
            old = existing.get(record_id)
            if old is None:
                changes.add(Change(entity, record_id, values, True, import_id, None))
                continue
            kept = tuple(old.values[i] if i in names else v for i, v in enumerate(values))
            if kept != old.values or not old.active:
                changes.add(Change(entity, record_id, kept, True, old.since, old))
        for record_id, old in existing.items():
            gone = record_id not in snapshot.ids(entity) and record_id not in snapshot.protected[entity]
            if gone and old.active:
                changes.add(Change(entity, record_id, old.values, False, old.since, old))
    return changes


@FAST
@given(seed=st.integers(0, 10_000), dropped_share=st.sampled_from([0, 3, 7]))
def test_the_plan_makes_exactly_the_changes_a_record_by_record_comparison_makes(seed, dropped_share):
    day1 = generate_school("CTS", students=30, classes_per_student=2, seed=seed)
    day2 = next_day(day1, seed=seed, new_students=3, gone_students=2, class_changes=4, renamed_teachers=1)
    valued = ("teachers", "students", "courses", "sections")

    def snapshot_of(school: SyntheticSchool) -> SchoolSnapshot:
        snapshot = SchoolSnapshot("CTS")
        for entity in valued:
            snapshot.records[entity] = dict(getattr(school, entity))
        snapshot.enrollments = {enrollment_id(section, student) for section, student in school.enrollments}
        return snapshot

    first = snapshot_of(day1)
    stored = {
        entity: {
            record_id: StoredRecord(
                first.values(entity, record_id), active=(n % 7 != dropped_share), since="i0", changed_by="i0"
            )
            for n, record_id in enumerate(sorted(first.ids(entity)))
        }
        for entity in ENTITIES
    }
    snapshot = snapshot_of(day2)
    snapshot.protected["students"].add(next(iter(day1.students)))
    # An enrollment gone from the upload whose row was unreadable: it must stay as stored.
    snapshot.protected["enrollments"].update(sorted(first.enrollments - snapshot.enrollments)[:1])
    plan = plan_changes(stored, snapshot, "i1")
    changes = list(plan.changes())
    assert len(changes) == plan.change_count() == len(set(changes))
    assert set(changes) == _reference_changes(stored, snapshot, "i1")
    assert list(plan.changes()) == changes  # made afresh, the same, each time
