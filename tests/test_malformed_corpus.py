"""A corpus of malformed uploads, each imported as night 2 after a good night 1, through the importer
handler. Each gets its stated status and a readable message, and none changes the roster except as
stated. None crashes the handler."""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sis_imports.dynamo import from_item

from .uploads import SLOOPY_SCHOOL, make_zip, sloopy

NIGHT1 = datetime(2026, 9, 14, 2, 0, tzinfo=UTC)
SCHOOL_KEY = "uploads/d1/CTS/night2.zip"


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    status: str
    code: str | None  # the error or warning code that explains it
    fragment: str  # words the record's reason or issue message must contain
    key: str = SCHOOL_KEY
    roster_changes: bool = False


def files(**changes: str | bytes | None) -> dict[str, str | bytes]:
    result: dict[str, str | bytes] = dict(SLOOPY_SCHOOL)
    for argument, body in changes.items():
        name = argument.replace("_txt", ".txt")
        if body is None:
            result.pop(name)
        else:
            result[name] = body
    return result


def bomb(path: Path, size: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in SLOOPY_SCHOOL.items():
            zf.writestr(name, body)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf,
        zf.open("Notes.txt", "w", force_zip64=True) as sink,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            sink.write(chunk)
    return path


def encrypted(path: Path) -> Path:
    data = bytearray(sloopy(path).read_bytes())
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        data[offset + 8] |= 0x1
        offset = data.find(b"PK\x01\x02", offset + 4)
    path.write_bytes(bytes(data))
    return path


def with_symlink(path: Path) -> Path:
    sloopy(path)
    with zipfile.ZipFile(path, "a") as zf:
        link = zipfile.ZipInfo("shadow.txt")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/shadow")
    return path


def raw(content: bytes) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        path.write_bytes(content)
        return path

    return build


def oneroster(
    users: str, manifest_users: str = "bulk", manifest: str | None = None
) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        default_manifest = "propertyName,value\noneroster.version,1.1\n" + "".join(
            f"file.{n},{manifest_users if n == 'users' else 'bulk'}\n"
            for n in ("orgs", "users", "courses", "classes", "enrollments")
        )
        return make_zip(
            path,
            {
                "manifest.csv": manifest if manifest is not None else default_manifest,
                "orgs.csv": "sourcedId,type,identifier\nCTS,school,CTS\n",
                "courses.csv": "sourcedId,title\nC1,Algebra\nC2,Biology\n",
                "classes.csv": "sourcedId,courseSourcedId,schoolSourcedId\nX1,C1,CTS\nX2,C2,CTS\n",
                "users.csv": users,
                "enrollments.csv": "classSourcedId,userSourcedId,role\nX1,T1,teacher\nX2,T2,teacher\n",
            },
        )

    return build


NOISE = random.Random(3).randbytes(5 << 20).hex()  # 10 MB of text that does not compress like a bomb

CORPUS = [
    Case("zip bomb", lambda p: bomb(p, 64 << 20), "failed", "zip_bomb", "expands"),
    Case("1 GB single file", lambda p: bomb(p, 1 << 30), "failed", "zip_bomb", "not a roster export"),
    Case(
        "path traversal entries",
        lambda p: make_zip(
            p, {**files(), "../../../etc/Students.txt": "S9\tX\tY\t9\n", "/abs/Teachers.txt": "T9\tX\tY\n"}
        ),
        "succeeded",
        "unsafe_path",
        "unsafe path",
    ),
    Case(
        "nested zip only",
        lambda p: make_zip(p, {"inner.zip": sloopy(p.with_suffix(".in")).read_bytes()}),
        "failed",
        "nested_zip",
        "inner export",
    ),
    Case(
        "nested zip beside the files",
        lambda p: make_zip(p, {**files(), "old.zip": b"PK\x05\x06" + b"\0" * 18}),
        "succeeded",
        "nested_zip",
        "ignored",
    ),
    Case(
        "__MACOSX and .DS_Store",
        lambda p: make_zip(
            p,
            {
                **{f"x/{n}": b for n, b in files().items()},
                "__MACOSX/x/._Students.txt": b"\0\x05\x16\x07junk",
                "x/.DS_Store": b"\0\0\0\1Bud1",
            },
        ),
        "succeeded",
        None,
        "",
    ),
    Case("encrypted zip", encrypted, "failed", "encrypted_zip", "password"),
    Case("symlink entry", with_symlink, "succeeded", "symlink", "symbolic link"),
    Case(
        "a line of 10 MB",
        lambda p: make_zip(p, files(Students_txt=SLOOPY_SCHOOL["Students.txt"] + "S4\t" + NOISE + "\r\n")),
        "succeeded",
        "bad_row",
        "too long",
    ),
    Case(
        "NUL bytes",
        lambda p: make_zip(
            p, files(Students_txt="S1\tGarcia\tAva\t9\r\nS2\tK\x00m\tLeo\t10\r\nS3\tLopez\tMia\t11\r\n")
        ),
        "succeeded",
        "bad_row",
        "NUL",
    ),
    Case(
        "invalid UTF-8",
        lambda p: make_zip(p, files(Courses_txt=b"C1\tAlg\xe8bre\r\nC2\tBiology\r\n")),
        "succeeded",
        "encoding",
        "Windows-1252",
        roster_changes=True,
    ),
    Case(
        "mixed encodings",
        lambda p: make_zip(p, files(Courses_txt="C1\tÁlgebra\r\n".encode() + b"C2\tBiolog\xeda\r\n")),
        "succeeded",
        "encoding",
        "Windows-1252",
        roster_changes=True,
    ),
    Case(
        "spreadsheet formula in a name",
        lambda p: make_zip(
            p, files(Courses_txt='C1\t=HYPERLINK("http://evil.example","Algebra")\r\nC2\tBiology\r\n')
        ),
        "succeeded",
        None,
        "",
        roster_changes=True,
    ),
    Case(
        "duplicate ids",
        lambda p: make_zip(p, files(Students_txt=SLOOPY_SCHOOL["Students.txt"] + "S1\tOther\tName\t12\r\n")),
        "succeeded",
        "duplicate_id",
        "first row is kept",
    ),
    Case(
        "dangling references",
        lambda p: make_zip(
            p, files(StudentSections_txt=SLOOPY_SCHOOL["StudentSections.txt"] + "S1\tX9\r\nS9\tX1\r\n")
        ),
        "succeeded",
        "unknown_reference",
        "not in the upload",
    ),
    Case(
        "header-only users.csv",
        oneroster("sourcedId,role,givenName,familyName\n"),
        "held",
        None,
        "would drop 3 of 3 active students",
    ),
    Case(
        "zero-byte Students.txt",
        lambda p: make_zip(p, files(Students_txt="")),
        "failed",
        "empty_file",
        "no rows",
    ),
    Case(
        "OneRoster delta file",
        oneroster("sourcedId,role,givenName,familyName\n", manifest_users="delta"),
        "failed",
        "delta_not_supported",
        "bulk",
    ),
    Case(
        "OneRoster broken manifest",
        oneroster("sourcedId,role,givenName,familyName\n", manifest="\x00\x01garbage"),
        "failed",
        "broken_manifest",
        "manifest.csv",
    ),
    Case(
        "another school's rows",
        lambda p: make_zip(p, {f"LHS_{n}": b for n, b in SLOOPY_SCHOOL.items()}),
        "failed",
        "other_school",
        "school LHS",
    ),
    Case(
        "Sloopy row with too few columns",
        lambda p: make_zip(p, files(Students_txt="S1\tGarcia\tAva\t9\r\nS2\tKim\r\nS3\tLopez\tMia\t11\r\n")),
        "succeeded",
        "too_few_columns",
        "expected 4",
    ),
    Case("not a zip", raw(b"%PDF-1.7 roster"), "failed", "not_a_zip", "not a zip"),
    Case("zero-byte upload", raw(b""), "failed", "empty_file", "0 bytes"),
    Case("empty zip", lambda p: make_zip(p, {}), "failed", "empty_zip", "The zip holds no files"),
    Case(
        "truncated zip",
        lambda p: raw(sloopy(p.with_suffix(".full")).read_bytes()[:300])(p),
        "failed",
        "not_a_zip",
        "not a zip",
    ),
    Case(
        "unknown format",
        lambda p: make_zip(p, {"grades.xlsx": b"PK\x03\x04"}),
        "failed",
        "unknown_format",
        "grades.xlsx",
    ),
    Case(
        "missing required file",
        lambda p: make_zip(p, files(Sections_txt=None)),
        "failed",
        "missing_file",
        "Sections.txt",
    ),
    Case(
        "most rows with the wrong columns",
        lambda p: make_zip(p, files(Teachers_txt="T1,Smith,Ann\r\nT2,Jones,Bo\r\n")),
        "failed",
        "wrong_columns",
        "Teachers.txt",
    ),
    Case(
        "CSV without a required column",
        oneroster("sourcedId,role,givenName\nS1,student,Ava\n"),
        "failed",
        "missing_column",
        "familyName",
    ),
    Case(
        "two files with one name",
        lambda p: make_zip(p, {**files(), "copy/Students.txt": SLOOPY_SCHOOL["Students.txt"]}),
        "failed",
        "ambiguous_file",
        "keep one",
    ),
    Case(
        "too many entries",
        lambda p: make_zip(p, {**files(), **{f"junk/{n}.txt": "x" for n in range(1001)}}),
        "failed",
        "too_many_files",
        "entries",
    ),
    Case(
        "bad school id in a district bundle",
        lambda p: make_zip(p, {f"C+S_{n}": b for n, b in SLOOPY_SCHOOL.items()}),
        "failed",
        "bad_school_id",
        "school id",
        key="uploads/d1/bundle.zip",
    ),
]


def test_the_corpus_is_at_least_thirty_uploads():
    assert len(CORPUS) >= 30
    assert len({case.name for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_malformed_upload(cloud, tmp_path: Path, case: Case):
    cloud.import_file(sloopy(tmp_path / "night1.zip"), "uploads/d1/CTS/night1.zip", NIGHT1)
    before = cloud.scan("RosterTable")
    result = cloud.import_file(case.build(tmp_path / "night2.zip"), case.key, NIGHT1 + timedelta(days=1))

    (outcome,) = result["imports"]
    assert outcome["status"] == case.status
    school = outcome["school_id"]
    items = [from_item(i) for i in cloud.scan("ImportsTable")]
    (record,) = [i for i in items if i["pk"] == f"d1#{school}" and i["sk"] == outcome["import_id"]]
    issues = record.get("errors", []) + record.get("warnings", [])
    if case.code:
        assert case.code in {issue["code"] for issue in issues}, issues
    text = json.dumps([record.get("reason"), issues])
    assert case.fragment in text
    if case.status in ("failed", "blocked", "held"):
        assert record["reason"] and len(record["reason"]) > 25
    if not case.roster_changes:
        assert cloud.scan("RosterTable") == before


def test_formula_payloads_are_stored_as_plain_text(cloud, tmp_path: Path):
    (case,) = [c for c in CORPUS if c.name == "spreadsheet formula in a name"]
    cloud.import_file(sloopy(tmp_path / "night1.zip"), "uploads/d1/CTS/night1.zip", NIGHT1)
    cloud.import_file(case.build(tmp_path / "night2.zip"), SCHOOL_KEY, NIGHT1 + timedelta(days=1))
    (course,) = [from_item(i) for i in cloud.scan("RosterTable") if i["sk"]["S"] == "C#C1"]
    assert course["title"] == '=HYPERLINK("http://evil.example","Algebra")'
