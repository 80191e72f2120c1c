"""What the importer does before writing, with nothing else imported: the peak-RSS figures run
this alone in a fresh process, so moto and the benchmark's own data do not count against it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sis_imports.diff import plan_changes
from sis_imports.formats import Scope, read_upload
from sis_imports.formats.split import split_bundle
from sis_imports.issues import IssueLog

__all__ = ["Scope", "import_parse"]


def import_parse(path: Path, scope: Scope) -> None:
    """What the importer does before writing: a school's upload is parsed and diffed whole; a district
    bundle is split by school in one streaming pass, then each part is parsed and diffed on its own."""
    if scope.school_id is not None:
        for snapshot in read_upload(path, scope, IssueLog()).schools.values():
            plan_changes({}, snapshot, "bench")
        return
    with tempfile.TemporaryDirectory() as folder:
        _, parts = split_bundle(path, scope.district_id, Path(folder), IssueLog())
        for school, part in parts.items():
            snapshot = read_upload(part, Scope(scope.district_id, school), IssueLog()).schools[school]
            plan_changes({}, snapshot, "bench")
