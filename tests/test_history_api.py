"""The history API: access rules from JWT claims, paging, and errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sis_imports.local.events import claims_for
from sis_imports.synthetic import generate_school, next_day, write_sloopy

DAY1 = datetime(2026, 9, 14, 8, 30, tzinfo=UTC)
PATH = "/districts/d1/schools/CTS/imports"


@pytest.fixture
def imported(cloud, tmp_path: Path):
    school = generate_school("CTS", students=30, classes_per_student=3)
    day = school
    for n in range(5):
        cloud.import_file(
            write_sloopy([day], tmp_path / f"{n}.zip"), f"uploads/d1/CTS/{n}.zip", DAY1 + timedelta(days=n)
        )
        day = next_day(day, seed=n + 10, new_students=1, gone_students=1, class_changes=1)
    return cloud


def call(cloud, claims, path=PATH, **kwargs):
    response = cloud.api("GET", path, claims, DAY1 + timedelta(days=6), **kwargs)
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        (claims_for("district_admin", "d1"), 200),
        (claims_for("school_admin", "d1", ["CTS"]), 200),
        (claims_for("sys_admin", "d1", ["X", "CTS"]), 200),
        (claims_for("school_admin", "d1", ["OTHER"]), 403),
        (claims_for("district_admin", "d2"), 403),
        (claims_for("school_admin", "d2", ["CTS"]), 403),
        (claims_for("teacher", "d1", ["CTS"]), 403),
        (claims_for("student", "d1", ["CTS"]), 403),
        (None, 401),
    ],
)
def test_access_is_decided_by_claims(imported, claims, status):
    code, body = call(imported, claims)
    assert code == status, body
    assert "message" in body or "items" in body


def test_history_is_newest_first_and_pages_with_a_cursor(imported):
    admin = claims_for("district_admin", "d1")
    seen = []
    cursor = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        code, body = call(imported, admin, query=query)
        assert code == 200
        assert len(body["items"]) <= 2
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    created = [item["created_at"] for item in seen]
    assert len(created) == 5
    assert created == sorted(created, reverse=True)
    assert all(item["status"] == "succeeded" for item in seen)
    assert "content_hash" not in seen[0]


def test_one_import_by_id_and_404_for_unknown(imported):
    admin = claims_for("district_admin", "d1")
    _, page = call(imported, admin, query={"limit": "1"})
    import_id = page["items"][0]["import_id"]
    code, record = call(imported, admin, path=f"{PATH}/{import_id}")
    assert code == 200 and record["import_id"] == import_id
    assert set(record["counts"]) == {"teachers", "students", "courses", "sections", "enrollments"}
    code, body = call(imported, admin, path=f"{PATH}/20990101T000000000000Z-0123456789")
    assert code == 404 and "message" in body


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"cursor": "garbage"},
        {"cursor": "eyJhZnRlciI6ICIuLi8uLiJ9"},
    ],
)
def test_bad_limit_or_cursor_is_a_400_with_a_message(imported, query):
    code, body = call(imported, claims_for("district_admin", "d1"), query=query)
    assert code == 400
    assert body["message"]


def test_openapi_document_lists_every_template_route():
    from sis_imports.api.app import openapi_document
    from sis_imports.local.template import Stack, find_template, http_routes, load_template, public_routes

    spec = json.loads(openapi_document())
    stack = Stack(load_template(find_template(Path(__file__).parent)))
    for method, path, _ in http_routes(stack):
        if (method, path) in public_routes(stack):
            continue  # the page and its assets are not part of the API's schema
        assert method.lower() in spec["paths"][path], f"{method} {path} missing from the OpenAPI document"
