"""Who may see and change what, decided only from the JWT claims the authorizer passes on.

custom:role         district_admin | school_admin | sys_admin | teacher | student
custom:district_id  the user's district
custom:school_ids   comma-separated schools, for school_admin and sys_admin
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sis_imports.model import SCHOOL_ID_PATTERN

DISTRICT_ADMIN = "district_admin"
SCHOOL_ADMIN = "school_admin"
SYS_ADMIN = "sys_admin"
SCHOOL_ROLES = (SCHOOL_ADMIN, SYS_ADMIN)


class Unauthenticated(Exception):
    pass


class Forbidden(Exception):
    pass


class BadPath(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    role: str
    district_id: str
    school_ids: frozenset[str]
    subject: str

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Principal:
        claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get(
            "claims"
        )
        if not claims or not claims.get("custom:role"):
            raise Unauthenticated("sign in: this request carries no identity")
        schools = frozenset(
            s.strip() for s in str(claims.get("custom:school_ids", "")).split(",") if s.strip()
        )
        return cls(
            str(claims["custom:role"]),
            str(claims.get("custom:district_id", "")),
            schools,
            str(claims.get("sub", "")),
        )

    def can_see_school(self, district_id: str, school_id: str) -> bool:
        if self.district_id != district_id:
            return False
        if self.role == DISTRICT_ADMIN:
            return True
        return self.role in SCHOOL_ROLES and school_id in self.school_ids

    def is_district_admin_of(self, district_id: str) -> bool:
        return self.role == DISTRICT_ADMIN and self.district_id == district_id


def check_ids(*values: str) -> None:
    for value in values:
        if not SCHOOL_ID_PATTERN.match(value):
            raise BadPath(f"{value[:64]!r} is not a valid district or school id")


def require_school(principal: Principal, district_id: str, school_id: str) -> None:
    """Read and write access to one school are the same rule today; one place to change it."""
    check_ids(district_id, school_id)
    if not principal.can_see_school(district_id, school_id):
        raise Forbidden("you may not see or change this school")


def require_district_admin(principal: Principal, district_id: str) -> None:
    check_ids(district_id)
    if not principal.is_district_admin_of(district_id):
        raise Forbidden("only a district_admin of this district may do this")


def require_district_member(principal: Principal, district_id: str) -> None:
    check_ids(district_id)
    if principal.district_id != district_id or principal.role not in (DISTRICT_ADMIN, *SCHOOL_ROLES):
        raise Forbidden("you may not see this district")
