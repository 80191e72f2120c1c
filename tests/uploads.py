"""Small uploads written by the tests themselves, file by file."""

from __future__ import annotations

import zipfile
from pathlib import Path

SLOOPY_SCHOOL = {
    "Courses.txt": "C1\tAlgebra\r\nC2\tBiology\r\n",
    "Teachers.txt": "T1\tSmith\tAnn\r\nT2\tJones\tBo\r\n",
    "Students.txt": "S1\tGarcia\tAva\t9\r\nS2\tKim\tLeo\t10\r\nS3\tLopez\tMia\t11\r\n",
    "Sections.txt": "X1\tC1\tT1\t1\tS1\r\nX2\tC2\tT2\t2\tS1\r\n",
    "StudentSections.txt": "S1\tX1\r\nS2\tX1\r\nS3\tX2\r\n",
}


def make_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return path


def sloopy(path: Path, **overrides: str | bytes | None) -> Path:
    """The small Sloopy school, with files replaced (or removed with None) by name."""
    files: dict[str, str | bytes] = dict(SLOOPY_SCHOOL)
    for name, content in overrides.items():
        key = name.replace("_", ".") if name.endswith("_txt") else name
        if content is None:
            files.pop(key, None)
        else:
            files[key] = content
    return make_zip(path, files)
