"""Every API route x every role x own school, another school, another district: the expected status."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sis_imports.local.events import claims_for
from sis_imports.local.template import Stack, http_routes, public_routes

from .conftest import TEMPLATE
from .uploads import SLOOPY_SCHOOL, make_zip

AT = datetime(2026, 10, 5, 9, tzinfo=UTC)
CALENDAR = {
    "school_year": "2026-2027",
    "first_day": "2026-08-20",
    "last_day": "2027-06-10",
    "timezone": "America/Chicago",
    "breaks": [],
}
PUBLIC = public_routes(Stack(TEMPLATE))
ROUTES = sorted(r for r in http_routes(Stack(TEMPLATE)) if (r[0], r[1]) not in PUBLIC)
ROLES = ["district_admin", "school_admin", "sys_admin", "teacher", "student", None]
TARGETS = {"own school": ("d1", "CTS"), "other school": ("d1", "LHS"), "other district": ("d2", "CTS")}


# Any answer but 401, 403 or a 5xx: approve and discard answer 409 for an import that is not held.
ALLOWED = 0


def expected(method: str, path: str, role: str | None, target: str) -> int:
    if role is None:
        return 401
    if role not in ("district_admin", "school_admin", "sys_admin") or target == "other district":
        return 403
    if role == "district_admin":
        return ALLOWED
    if "{school_id}" not in path:
        # District-wide routes: only reading the default calendar is open to a school's admins.
        return ALLOWED if (method, path) == ("GET", "/districts/{district_id}/calendar") else 403
    return ALLOWED if target == "own school" else 403


def body_for(method: str, path: str) -> dict | None:
    if method != "PUT":
        return None
    return {"hold_threshold_percent": 15} if path.endswith("/settings") else CALENDAR


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Module-scoped moto world: three schools in two districts, each imported, calendars set."""
    from moto import mock_aws

    from .conftest import cloud_for

    with mock_aws(), cloud_for(pytest.MonkeyPatch()) as cloud:
        folder = tmp_path_factory.mktemp("iso")
        import_ids = {}
        for district, school in TARGETS.values():
            files = {f"{school}_{name}": body for name, body in SLOOPY_SCHOOL.items()}
            cloud.import_file(
                make_zip(folder / f"{district}{school}.zip", files), f"uploads/{district}/{school}/x.zip", AT
            )
            admin = claims_for("district_admin", district)
            cloud.api("PUT", f"/districts/{district}/calendar", admin, AT, body=CALENDAR)
            page = cloud.api("GET", f"/districts/{district}/schools/{school}/imports", admin, AT)
            import_ids[district, school] = json.loads(page["body"])["items"][0]["import_id"]
        yield cloud, import_ids


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize(("method", "path", "function"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_isolation_matrix(world, method, path, function, role, target):
    cloud, import_ids = world
    district, school = TARGETS[target]
    concrete = path.replace("{district_id}", district).replace("{school_id}", school)
    concrete = concrete.replace("{import_id}", import_ids[district, school])
    claims = claims_for(role, "d1", ["CTS"]) if role else None
    response = cloud.api(method, concrete, claims, AT + timedelta(hours=1), body=body_for(method, path))
    want = expected(method, path, role, target)
    if want == ALLOWED:
        assert response["statusCode"] not in (401, 403) and response["statusCode"] < 500, response["body"]
        assert response["statusCode"] in ((200, 409) if method == "POST" else (200,)), response["body"]
    else:
        assert response["statusCode"] == want, response["body"]
    assert "Traceback" not in response["body"]


@pytest.mark.parametrize("path", ["/", "/assets/app.js", "/assets/style.css"])
def test_the_page_and_its_assets_need_no_token_and_hold_no_data(world, path):
    cloud, _ = world
    response = cloud.api("GET", path, None, AT)
    assert response["statusCode"] == 200
    assert "default-src 'none'" in response["headers"]["Content-Security-Policy"]
    assert "CTS" not in response["body"] and "Garcia" not in response["body"]


def test_only_known_assets_are_served(world):
    cloud, _ = world
    assert cloud.api("GET", "/assets/..%2Fapi%2Fapp.py", None, AT)["statusCode"] == 404
    assert cloud.api("GET", "/assets/secrets.txt", None, AT)["statusCode"] == 404
