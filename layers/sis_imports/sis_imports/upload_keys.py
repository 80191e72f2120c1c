"""Who an upload belongs to comes from its S3 key, never from the file.

uploads/<district_id>/<school_id>/<anything>.zip  one school's upload
uploads/<district_id>/<anything>.zip              a district bundle; the file names the schools
"""

from __future__ import annotations

from sis_imports.formats.common import Scope
from sis_imports.model import SCHOOL_ID_PATTERN

PREFIX = "uploads/"


class BadKey(ValueError):
    pass


def scope_of(key: str) -> Scope:
    if not key.startswith(PREFIX):
        raise BadKey(f"upload key {key[:200]!r} is not under {PREFIX}")
    parts = key[len(PREFIX) :].split("/")
    if len(parts) == 2:
        district_id, school_id = parts[0], None
    elif len(parts) == 3:
        district_id, school_id = parts[0], parts[1]
    else:
        raise BadKey(f"upload key {key[:200]!r} is not uploads/<district>/[<school>/]<file>.zip")
    for value in (district_id, school_id):
        if value is not None and not SCHOOL_ID_PATTERN.match(value):
            raise BadKey(f"upload key {key[:200]!r} names an invalid district or school id")
    if not parts[-1]:
        raise BadKey(f"upload key {key[:200]!r} names a folder, not a file")
    return Scope(district_id, school_id)


def upload_key(district_id: str, school_id: str | None, file_name: str) -> str:
    middle = f"{district_id}/{school_id}/" if school_id else f"{district_id}/"
    return f"{PREFIX}{middle}{file_name}"
