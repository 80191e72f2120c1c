"""Property-based tests: whatever bytes arrive, a parser either reads them or refuses them cleanly."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sis_imports.formats import Scope, read_upload
from sis_imports.formats.text import TextFile
from sis_imports.issues import IssueLog
from sis_imports.model import UploadRejected

from .uploads import SLOOPY_SCHOOL, make_zip

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
cell = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
rows = st.lists(st.lists(cell, max_size=7), max_size=12)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def try_read(path: Path) -> None:
    try:
        upload = read_upload(path, Scope("d1", "CTS"), IssueLog())
    except UploadRejected as exc:
        assert exc.message  # every refusal says why
        return
    for snapshot in upload.schools.values():
        for records in snapshot.records.values():
            for record_id, values in records.items():
                assert record_id and all(isinstance(v, str) for v in values)


@FAST
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_as_an_upload(tmp_path_factory, data: bytes):
    path = tmp_path_factory.mktemp("b") / "upload.zip"
    path.write_bytes(data)
    try_read(path)


@FAST
@given(name=st.sampled_from(sorted(SLOOPY_SCHOOL)), content=st.binary(max_size=1024))
def test_arbitrary_bytes_in_one_sloopy_file(tmp_path_factory, name: str, content: bytes):
    files: dict[str, str | bytes] = {**SLOOPY_SCHOOL, name: content}
    try_read(make_zip(tmp_path_factory.mktemp("s") / "u.zip", files))


@FAST
@given(name=st.sampled_from(sorted(SLOOPY_SCHOOL)), table=rows)
def test_arbitrary_rows_in_one_sloopy_file(tmp_path_factory, name: str, table: list[list[str]]):
    files: dict[str, str | bytes] = {**SLOOPY_SCHOOL, name: "\r\n".join("\t".join(r) for r in table)}
    try_read(make_zip(tmp_path_factory.mktemp("r") / "u.zip", files))


SDS_NAMES = [
    "School.csv",
    "Section.csv",
    "Student.csv",
    "Teacher.csv",
    "StudentEnrollment.csv",
    "TeacherRoster.csv",
]
ONEROSTER_NAMES = ["manifest.csv", "orgs.csv", "classes.csv", "users.csv", "enrollments.csv", "courses.csv"]


@FAST
@given(names=st.sampled_from([SDS_NAMES, ONEROSTER_NAMES]), tables=st.lists(rows, min_size=6, max_size=6))
def test_arbitrary_csv_tables_in_sds_and_oneroster_sets(tmp_path_factory, names, tables):
    import csv

    files: dict[str, str | bytes] = {}
    for name, table in zip(names, tables, strict=True):
        out = io.StringIO()
        csv.writer(out).writerows(table)
        files[name] = out.getvalue()
    try_read(make_zip(tmp_path_factory.mktemp("c") / "u.zip", files))


@FAST
@given(data=st.binary(max_size=4096))
def test_text_reader_yields_every_byte_once_as_text(data: bytes):
    chunks = TextFile(io.BytesIO(data)).texts()
    lines = [line for text, plain in chunks for line in TextFile.ended_lines(text, plain)]
    assert all(isinstance(line, str) for line in lines)
    # Line structure survives decoding: one line per terminator (CR, LF or CRLF), plus a tail.
    assert len(lines) <= data.count(b"\n") + data.count(b"\r") + 1


def test_a_zip_with_a_structurally_odd_member_is_handled(tmp_path):
    path = tmp_path / "odd.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Students.txt/", "")  # a directory entry named like a file
        zf.writestr("manifest.csv", "")
    try_read(path)


def _read_everything(path: Path) -> tuple[object, list[object], list[object]]:
    issues = IssueLog()
    try:
        upload = read_upload(path, Scope("d1", "CTS"), issues)
        result: object = {s: (snap.records, snap.protected) for s, snap in upload.schools.items()}
    except UploadRejected as exc:
        result = (exc.code, exc.message, exc.file, exc.line)
    return result, issues.warnings, issues.errors


# Lines that mix what the fast path takes with what it must hand back: known and unknown ids,
# repeats, short, blank and padded lines, CRs, control characters and NULs.
enrollment_line = st.one_of(
    st.sampled_from(["S1\tX1", "S2\tX1", "S3\tX2", "S1\tX2", "S9\tX1", "S1\tX9", " S2 \t X2 ", "S3", ""]),
    st.sampled_from(["S1\tX1\textra", "S2\r\tX2", "S\x00\tX1", "S3\tX2\x07", "\r", "   "]),
)


@FAST
@given(
    lines=st.lists(enrollment_line, max_size=60),
    ending=st.sampled_from(["\n", "\r\n"]),
    chunk=st.integers(3, 64),
)
def test_reading_in_batches_gives_what_line_by_line_reading_gives(
    tmp_path_factory, monkeypatch_module, lines: list[str], ending: str, chunk: int
):
    """The batch fast path (plain chunks, enrollments inline) is only a shortcut: small chunks, which
    put boundaries everywhere, and no fast path at all must give the same roster and the same issues."""
    from sis_imports.formats import text

    path = make_zip(
        tmp_path_factory.mktemp("e") / "u.zip", {**SLOOPY_SCHOOL, "StudentSections.txt": ending.join(lines)}
    )
    usual = _read_everything(path)
    with monkeypatch_module.context() as patch:
        patch.setattr(text, "CHUNK", chunk)
        assert _read_everything(path) == usual
    with monkeypatch_module.context() as patch:
        patch.setattr(text, "_USUAL_BYTES", b"")  # every batch looks unusual: line by line
        assert _read_everything(path) == usual
