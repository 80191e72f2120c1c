"""A district bundle split by school: each part reads exactly as that school's own upload would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sis_imports.formats import Scope, read_upload
from sis_imports.formats.split import split_bundle
from sis_imports.issues import IssueLog
from sis_imports.model import UploadRejected
from sis_imports.synthetic import generate_school, write_oneroster, write_sds, write_sloopy

from .uploads import SLOOPY_SCHOOL, make_zip


@pytest.mark.parametrize(
    "writer", [write_sloopy, write_oneroster, write_sds], ids=["sloopy", "oneroster", "sds"]
)
def test_each_part_holds_one_school_exactly(tmp_path: Path, writer):
    schools = [generate_school(s, students=50, seed=n) for n, s in enumerate(("AHS", "BMS", "CES"))]
    bundle = writer(schools, tmp_path / "bundle.zip")
    whole = read_upload(bundle, Scope("d1"), IssueLog())
    fmt, parts = split_bundle(bundle, "d1", tmp_path / "parts", IssueLog())
    assert sorted(parts) == ["AHS", "BMS", "CES"]
    for school in schools:
        part = read_upload(parts[school.school_id], Scope("d1", school.school_id), IssueLog())
        assert part.format == fmt
        assert set(part.schools) == {school.school_id}
        snapshot = part.schools[school.school_id]
        assert snapshot.records == whole.schools[school.school_id].records
        for entity in ("teachers", "students", "sections", "enrollments"):
            assert snapshot.counts()[entity] == school.counts()[entity]


def test_public_sds_sample_splits_into_its_two_schools(samples, tmp_path: Path):
    _, parts = split_bundle(samples / "sds-v1-100-users", "d1", tmp_path / "parts", IssueLog())
    counts = {
        school: read_upload(part, Scope("d1", school), IssueLog()).schools[school].counts()
        for school, part in parts.items()
    }
    assert counts == {
        "10001": {"teachers": 7, "students": 60, "courses": 14, "sections": 14, "enrollments": 420},
        "10002": {"teachers": 5, "students": 26, "courses": 14, "sections": 14, "enrollments": 182},
    }


@pytest.mark.parametrize("name", ["Test_full_data_set.zip", "v1p2_full_dataset.zip"])
def test_public_oneroster_samples_split(samples, tmp_path: Path, name: str):
    bundle = samples / "oneroster-catalyst" / name
    whole = read_upload(bundle, Scope("d1"), IssueLog()).schools["org-sch-222-456"]
    _, parts = split_bundle(bundle, "d1", tmp_path / "parts", IssueLog())
    part = read_upload(parts["org-sch-222-456"], Scope("d1", "org-sch-222-456"), IssueLog())
    assert part.schools["org-sch-222-456"].records == whole.records


def test_a_bundle_that_cannot_be_split_is_refused_with_the_reason(tmp_path: Path):
    unprefixed = make_zip(tmp_path / "u.zip", SLOOPY_SCHOOL)
    with pytest.raises(UploadRejected) as raised:
        split_bundle(unprefixed, "d1", tmp_path / "parts", IssueLog())
    assert raised.value.code == "missing_school_prefix"


@pytest.mark.parametrize("writer", [write_oneroster, write_sds], ids=["oneroster", "sds"])
def test_a_district_of_many_schools_splits_within_a_small_file_descriptor_limit(tmp_path: Path, writer):
    # Lambda allows 1,024 open files; a part file per school and per source file would pass that
    # for a few hundred schools. Here 40 schools split under a limit of 100 descriptors.
    schools = [generate_school(f"S{n:02}", students=4, seed=n) for n in range(40)]
    bundle = writer(schools, tmp_path / "bundle.zip")
    code = (
        "import resource, sys\nfrom pathlib import Path\n"
        "from sis_imports.formats.split import split_bundle\nfrom sis_imports.issues import IssueLog\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))\n"
        "_, parts = split_bundle(Path(sys.argv[1]), 'd1', Path(sys.argv[2]), IssueLog())\n"
        "print(len(parts))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(bundle), str(tmp_path / "parts")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "40"
