"""Parser behaviour for each format, on uploads the tests write themselves."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
from sis_imports.formats import Scope, read_upload
from sis_imports.issues import IssueLog
from sis_imports.model import UploadRejected, enrollment_id

from .uploads import SLOOPY_SCHOOL, make_zip, sloopy

SCHOOL = Scope("d1", "CTS")
DISTRICT = Scope("d1")


def read(path: Path, scope: Scope = SCHOOL):
    issues = IssueLog()
    return read_upload(path, scope, issues), issues


def rejected(path: Path, scope: Scope = SCHOOL) -> UploadRejected:
    with pytest.raises(UploadRejected) as raised:
        read(path, scope)
    return raised.value


# ---------------------------------------------------------------- Sloopy
def test_sloopy_reads_every_entity_and_ignores_extra_columns(tmp_path):
    path = sloopy(
        tmp_path / "u.zip", Students_txt="S1\tGarcia\tAva\t9\t2010-01-02\t1 Main St\t555-123-4567\r\n"
    )
    upload, issues = read(path)
    snapshot = upload.schools["CTS"]
    assert upload.format == "sloopy"
    assert snapshot.records["students"] == {"S1": ("Garcia", "Ava", "9")}
    assert snapshot.records["sections"]["X1"] == ("C1", "T1", "1", "S1")
    assert snapshot.enrollments == {enrollment_id("X1", "S1")}
    # S2 and S3 are no longer students, so their enrollments are unknown references.
    assert {w.code for w in issues.warnings} == {"unknown_reference"}
    assert upload.file_rows["Students.txt"] == 1


def test_sloopy_names_are_case_insensitive_and_may_carry_the_school_prefix(tmp_path):
    files = {f"cts_{name.lower()}": body for name, body in SLOOPY_SCHOOL.items()}
    upload, _ = read(make_zip(tmp_path / "u.zip", files))
    assert upload.schools["CTS"].counts()["students"] == 3


def test_sloopy_district_bundle_splits_by_file_prefix(tmp_path):
    files = {f"{school}_{name}": body for school in ("AHS", "BMS") for name, body in SLOOPY_SCHOOL.items()}
    upload, _ = read(make_zip(tmp_path / "u.zip", files), DISTRICT)
    assert sorted(upload.schools) == ["AHS", "BMS"]


def test_sloopy_bom_lf_blank_lines_and_windows_1252(tmp_path):
    students = (
        "\ufeffS1\tGarcia\tAva\t9\n\n   \nS2\tKim\tLeo\t10\n".encode()
        + "S3\tMüller\tZoë\t11\n".encode("cp1252")
    )
    upload, issues = read(sloopy(tmp_path / "u.zip", Students_txt=students))
    assert upload.schools["CTS"].records["students"]["S1"] == ("Garcia", "Ava", "9")
    assert upload.schools["CTS"].records["students"]["S3"] == ("Müller", "Zoë", "11")
    assert [w.code for w in issues.warnings] == ["encoding"]


def test_sloopy_short_row_is_skipped_with_its_line_and_keeps_the_record(tmp_path):
    upload, issues = read(
        sloopy(tmp_path / "u.zip", Students_txt="S1\tGarcia\tAva\t9\r\nS2\tKim\r\nS3\tLopez\tMia\t11\r\n")
    )
    (warning,) = [w for w in issues.warnings if w.code == "too_few_columns"]
    assert (warning.file, warning.line) == ("Students.txt", 2)
    assert "S2" in upload.schools["CTS"].protected["students"]


def test_sloopy_mostly_wrong_columns_is_refused(tmp_path):
    error = rejected(sloopy(tmp_path / "u.zip", Students_txt="S1,Garcia,Ava,9\r\nS2,Kim,Leo,10\r\n"))
    assert error.code == "wrong_columns" and "Students.txt" in error.message


def test_sloopy_missing_file_is_refused_by_name(tmp_path):
    error = rejected(sloopy(tmp_path / "u.zip", StudentSections_txt=None))
    assert error.code == "missing_file" and "StudentSections.txt" in error.message


def test_sloopy_data_prefix_column(tmp_path):
    prefixed = {
        name: "".join(f"CTS\t{line}\r\n" for line in body.splitlines())
        for name, body in SLOOPY_SCHOOL.items()
    }
    upload, _ = read(make_zip(tmp_path / "u.zip", prefixed), Scope("d1", "CTS", "CTS"))
    assert upload.schools["CTS"].counts()["students"] == 3
    other = dict(prefixed, **{"Students.txt": "LHS\tS9\tX\tY\t9\r\n"})
    assert rejected(make_zip(tmp_path / "o.zip", other), Scope("d1", "CTS", "CTS")).code == "other_school"


def test_school_upload_carrying_another_schools_files_is_refused(tmp_path):
    files = {f"LHS_{name}": body for name, body in SLOOPY_SCHOOL.items()}
    error = rejected(make_zip(tmp_path / "u.zip", files))
    assert error.code == "other_school" and "LHS" in error.message


def test_duplicate_ids_keep_the_first_row(tmp_path):
    upload, issues = read(
        sloopy(
            tmp_path / "u.zip", Students_txt="S1\tA\tB\t9\r\nS1\tC\tD\t10\r\nS2\tE\tF\t9\r\nS3\tG\tH\t9\r\n"
        )
    )
    assert upload.schools["CTS"].records["students"]["S1"] == ("A", "B", "9")
    assert [(w.code, w.line) for w in issues.warnings if w.code == "duplicate_id"] == [("duplicate_id", 2)]


def test_section_with_unknown_course_is_skipped_and_so_are_its_enrollments(tmp_path):
    upload, issues = read(
        sloopy(tmp_path / "u.zip", Sections_txt="X1\tC9\tT1\t1\tS1\r\nX2\tC2\tT2\t2\tS1\r\n")
    )
    snapshot = upload.schools["CTS"]
    assert "X1" not in snapshot.records["sections"] and "X1" in snapshot.protected["sections"]
    assert enrollment_id("X1", "S1") in snapshot.protected["enrollments"]
    assert any(w.code == "unknown_reference" and w.line == 1 for w in issues.warnings)


def test_formula_payloads_are_kept_as_plain_text(tmp_path):
    upload, _ = read(
        sloopy(
            tmp_path / "u.zip",
            Students_txt='S1\t=HYPERLINK("http://x","y")\tAva\t9\r\nS2\tKim\tLeo\t10\r\nS3\tA\tB\t9\r\n',
        )
    )
    assert upload.schools["CTS"].records["students"]["S1"][0] == '=HYPERLINK("http://x","y")'


# ---------------------------------------------------------------- OneRoster
MANIFEST = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n" + "".join(
    f"file.{name},bulk\n" for name in ("orgs", "users", "courses", "classes", "enrollments")
)
ONEROSTER = {
    "manifest.csv": MANIFEST,
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nCTS,active,,Central,school,CTS,\n",
    "courses.csv": "sourcedId,status,title\nC1,active,Algebra\nC2,tobedeleted,Old\n",
    "classes.csv": "sourcedId,status,title,courseSourcedId,schoolSourcedId,termSourcedIds,periods\n"
    'X1,active,Alg 1,C1,CTS,T1,"1,2"\n',
    "users.csv": "sourcedId,status,orgSourcedIds,role,givenName,familyName,email,password,grades\n"
    "U1,active,CTS,student,Ava,Garcia,ava@x.test,pw,09\nU2,active,CTS,teacher,Ann,Smith,ann@x.test,pw,\n"
    "U3,tobedeleted,CTS,student,Gone,Away,,pw,10\nU4,active,CTS,parent,Pa,Rent,,pw,\n",
    "enrollments.csv": "sourcedId,status,classSourcedId,schoolSourcedId,userSourcedId,role,primary\n"
    "E1,active,X1,CTS,U1,student,false\nE2,active,X1,CTS,U2,teacher,true\n",
}


def test_oneroster_reads_students_teachers_and_section_teachers(tmp_path):
    upload, _ = read(make_zip(tmp_path / "o.zip", ONEROSTER))
    snapshot = upload.schools["CTS"]
    assert upload.format == "oneroster"
    assert snapshot.records["students"] == {"U1": ("Garcia", "Ava", "09")}
    assert snapshot.records["teachers"] == {"U2": ("Smith", "Ann")}
    assert snapshot.records["sections"]["X1"] == ("C1", "U2", "1,2", "T1")
    assert snapshot.records["courses"] == {"C1": ("Algebra",)}
    assert snapshot.counts()["enrollments"] == 1  # the teacher's enrollment is not one


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"manifest.csv": MANIFEST.replace("file.users,bulk", "file.users,delta")}, "delta_not_supported"),
        ({"manifest.csv": "garbage\n"}, "broken_manifest"),
        ({"manifest.csv": "propertyName,value\noneroster.version,9.9\n"}, "broken_manifest"),
        ({"users.csv": None}, "missing_file"),
        ({"users.csv": "sourcedId,givenName\nU1,Ava\n"}, "missing_column"),
    ],
)
def test_oneroster_bundles_that_cannot_be_imported_are_refused(tmp_path, files, code):
    bundle = {name: body for name, body in {**ONEROSTER, **files}.items() if body is not None}
    assert rejected(make_zip(tmp_path / "o.zip", bundle)).code == code


def test_oneroster_catalyst_samples_import_what_is_valid_and_name_what_is_skipped(samples):
    for name in ("Test_full_data_set.zip", "v1p2_full_dataset.zip"):
        upload, issues = read(samples / "oneroster-catalyst" / name, DISTRICT)
        snapshot = upload.schools["org-sch-222-456"]
        assert snapshot.counts() == {
            "teachers": 2,
            "students": 3,
            "courses": 1,
            "sections": 1,
            "enrollments": 1,
        }
        assert all(w.file for w in issues.warnings)
        assert any(w.code == "unknown_reference" and w.line == 3 for w in issues.warnings)


# ---------------------------------------------------------------- SDS
def test_sds_sample_matches_its_published_counts(samples):
    upload, _ = read(samples / "sds-v1-100-users", DISTRICT)
    assert upload.format == "sds"
    assert upload.schools["10001"].counts() == {
        "teachers": 7,
        "students": 60,
        "courses": 14,
        "sections": 14,
        "enrollments": 420,
    }
    assert upload.schools["10002"].counts() == {
        "teachers": 5,
        "students": 26,
        "courses": 14,
        "sections": 14,
        "enrollments": 182,
    }


def test_sds_school_upload_with_another_schools_rows_is_refused(samples):
    error = rejected(samples / "sds-v1-100-users", Scope("d1", "10001"))
    assert error.code == "other_school" and "10002" in error.message


# ---------------------------------------------------------------- archives
def test_not_a_zip_empty_and_unknown_format(tmp_path):
    (tmp_path / "a.zip").write_bytes(b"hello")
    (tmp_path / "b.zip").write_bytes(b"")
    assert rejected(tmp_path / "a.zip").code == "not_a_zip"
    assert rejected(tmp_path / "b.zip").code == "empty_file"
    assert rejected(make_zip(tmp_path / "c.zip", {"notes.docx": "x"})).code == "unknown_format"
    assert rejected(make_zip(tmp_path / "d.zip", {})).code == "empty_zip"


def test_mac_junk_is_ignored_and_traversal_entries_are_never_followed(tmp_path):
    files = {
        **{f"export/{n}": b for n, b in SLOOPY_SCHOOL.items()},
        "__MACOSX/export/._Students.txt": "junk",
        "export/.DS_Store": "junk",
        "../../etc/Students.txt": "S9\tEvil\tE\t9\n",
    }
    upload, issues = read(make_zip(tmp_path / "u.zip", files))
    assert upload.schools["CTS"].counts()["students"] == 3
    assert [w.code for w in issues.warnings] == ["unsafe_path"]


def test_nested_zip_only_is_refused(tmp_path):
    inner = sloopy(tmp_path / "inner.zip").read_bytes()
    assert rejected(make_zip(tmp_path / "u.zip", {"inner.zip": inner})).code == "nested_zip"


def test_zip_bomb_is_refused_before_reading(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Students.txt", b"\0" * (50 << 20))
    assert rejected(path).code == "zip_bomb"


def test_encrypted_entry_is_refused(tmp_path):
    path = sloopy(tmp_path / "u.zip")
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag bit on every central-directory entry.
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        data[offset + 8] |= 0x1
        offset = data.find(b"PK\x01\x02", offset + 4)
    path.write_bytes(bytes(data))
    assert rejected(path).code == "encrypted_zip"


def test_symlink_entries_are_ignored(tmp_path):
    path = tmp_path / "u.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, body in SLOOPY_SCHOOL.items():
            zf.writestr(name, body)
        link = zipfile.ZipInfo("passwd.txt")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    _, issues = read(path)
    assert [w.code for w in issues.warnings] == ["symlink"]


def test_nul_bytes_and_an_overlong_line_are_row_warnings(tmp_path):
    noise = random.Random(7).randbytes(1 << 20).hex()  # 2 MiB that does not compress like a bomb
    students = "S1\tGarcia\tAva\t9\r\nS2\tK\x00m\tLeo\t10\r\n" + "S4\t" + noise + "\r\nS3\tLopez\tMia\t11\r\n"
    upload, issues = read(sloopy(tmp_path / "u.zip", Students_txt=students))
    assert sorted(upload.schools["CTS"].records["students"]) == ["S1", "S3"]
    assert sorted(w.line for w in issues.warnings if w.code == "bad_row") == [2, 3]
