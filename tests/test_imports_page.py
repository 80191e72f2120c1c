"""The Imports page in headless Chromium against the local stack: two schools, one stale, one with a
held import. Screenshots go to test-output/."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from sis_imports.local import tokens
from sis_imports.local.events import claims_for, http_event, s3_put_event
from sis_imports.local.stack import LocalStack
from sis_imports.synthetic import generate_school, next_day, write_sloopy

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
    # CI installs Debian's chromium and chromium-driver (.ci/run); a missing browser there is a failure.
    if os.environ.get("CI"):
        raise RuntimeError("chromium and chromedriver are required in CI (.ci/run installs them)")
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[dict]:
    """The local stack with STALE (last import 5 days ago) and FRESH (a held import on top of yesterday's)."""
    local = LocalStack(ROOT, quiet=True, deliver_uploads=False)
    local.start()
    try:
        folder = tmp_path_factory.mktemp("page")
        s3 = boto3.client(
            "s3",
            endpoint_url=local.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        now = datetime.now(UTC)

        def import_at(school, key: str, at: datetime) -> None:
            path = write_sloopy([school], folder / f"{abs(hash(key))}.zip")
            put = s3.put_object(Bucket=local.bucket, Key=key, Body=path.read_bytes())
            # The S3 event as AWS would send it, with the arrival time set back for the story.
            local.invoke(
                "ImporterFunction",
                s3_put_event(
                    local.bucket,
                    key,
                    size=path.stat().st_size,
                    etag=put["ETag"].strip('"'),
                    version_id=put.get("VersionId"),
                    at=at,
                ),
            )

        stale, fresh = generate_school("STALE", students=60), generate_school("FRESH", students=80)
        # STALE has a calendar and a school year of nightly imports: a week lost in October, the
        # Thanksgiving break, and nothing for the last five days.
        today = now.date()
        first_day = today - timedelta(days=100)
        calendar = {
            "school_year": f"{first_day.year}-{first_day.year + 1}",
            "first_day": first_day.isoformat(),
            "last_day": (first_day + timedelta(days=290)).isoformat(),
            "timezone": "UTC",
            "breaks": [
                {
                    "name": "Thanksgiving",
                    "start": (today - timedelta(days=14)).isoformat(),
                    "end": (today - timedelta(days=10)).isoformat(),
                }
            ],
        }
        admin = claims_for("district_admin", "d1")
        set_calendar = http_event(
            "PUT", "/districts/d1/schools/STALE/calendar", claims=admin, at=now, body=calendar
        )
        assert local.invoke("ApiFunction", set_calendar)["statusCode"] == 200
        night = stale
        for days_ago in range(100, 4, -1):
            if 55 <= days_ago <= 61 or 10 <= days_ago <= 14:
                continue  # the lost week, and the break
            if days_ago % 9 == 0:
                night = next_day(night, seed=days_ago, new_students=1, gone_students=0, class_changes=1)
            import_at(night, f"uploads/d1/STALE/{days_ago}.zip", now - timedelta(days=days_ago))
        import_at(fresh, "uploads/d1/FRESH/a.zip", now - timedelta(days=1))
        shrunk = fresh.copy()
        for student_id in sorted(shrunk.students)[:40]:
            del shrunk.students[student_id]
        shrunk.enrollments = {e for e in shrunk.enrollments if e[1] in shrunk.students}
        import_at(shrunk, "uploads/d1/FRESH/b.zip", now - timedelta(hours=1))
        token = tokens.issue(local.secret, claims_for("district_admin", "d1"), time.time())
        yield {"url": local.api_url, "token": token}
    finally:
        local.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,800",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    # The page itself at exactly 1280x800, whatever the window's frame takes.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    )
    yield driver
    driver.quit()


def api(stack: dict, path: str) -> dict:
    request = urllib.request.Request(
        stack["url"] + path, headers={"Authorization": f"Bearer {stack['token']}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def open_school(browser, stack: dict, school: str) -> None:
    browser.get(f"{stack['url']}/?school={school}#token={stack['token']}")
    wait = WebDriverWait(browser, 15)
    wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f'.school[data-school="{school}"][aria-pressed="true"]')
    )
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#history tbody tr"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline svg"))


def test_history_table_matches_the_api(browser, stack):
    open_school(browser, stack, "FRESH")
    items = api(stack, "/districts/d1/schools/FRESH/imports")["items"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    assert len(rows) == len(items) == 2
    for row, item in zip(rows, items, strict=True):
        cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
        assert cells[0] == item["created_at"][:16].replace("T", " ")
        assert cells[2] == item["status"]
        for cell, entity in zip(
            cells[3:], ("teachers", "students", "courses", "sections", "enrollments"), strict=True
        ):
            counts = item["counts"][entity]
            assert cell == f"{counts['total']} ({counts['new']})"


def test_banner_shows_for_the_stale_school_only(browser, stack):
    open_school(browser, stack, "FRESH")
    assert not browser.find_element(By.ID, "banner").is_displayed()
    stale_chip = browser.find_element(By.CSS_SELECTOR, '.school[data-school="STALE"]')
    assert "status-stale" in stale_chip.get_attribute("class")
    stale_chip.click()
    banner = WebDriverWait(browser, 10).until(
        expected_conditions.visibility_of_element_located((By.ID, "banner"))
    )
    assert "5.0 days old" in banner.text and "Sloopy installer" in banner.text
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "imports-stale-school.png"))


def test_timeline_chart_renders_imports_gaps_breaks_and_students(browser, stack):
    open_school(browser, stack, "STALE")
    svg = browser.find_element(By.CSS_SELECTOR, "#timeline svg")
    imported = api(stack, "/districts/d1/schools/STALE/imports?limit=100")["items"]
    assert len(svg.find_elements(By.CSS_SELECTOR, "circle.mark")) == len(imported) == 84
    # The lost week (7 days) and the 4 whole days since the last import; the break is not a gap.
    assert len(svg.find_elements(By.CSS_SELECTOR, "rect.gap")) == 11
    assert len(svg.find_elements(By.CSS_SELECTOR, "rect.break")) == 1
    assert svg.find_elements(By.CSS_SELECTOR, "rect.summer")
    assert svg.find_elements(By.CSS_SELECTOR, "polyline.students")
    # Ten rows a page, newest first, and the next page is one click away.
    assert len(browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")) == 10
    assert browser.find_element(By.ID, "older").is_enabled()
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "imports-overview-1280x800.png"))


def test_approve_a_held_import(browser, stack):
    open_school(browser, stack, "FRESH")
    held = browser.find_element(By.XPATH, "//tbody/tr[.//span[contains(@class,'held')]]")
    held.click()
    approve = WebDriverWait(browser, 10).until(
        expected_conditions.element_to_be_clickable((By.ID, "approve"))
    )
    assert "would drop 40 of 80 active students" in browser.find_element(By.ID, "detail-reason").text
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "imports-held-detail.png"))
    approve.click()
    WebDriverWait(browser, 5).until(expected_conditions.alert_is_present()).accept()
    WebDriverWait(browser, 20).until(lambda d: "succeeded" in d.find_element(By.ID, "detail-title").text)
    assert api(stack, "/districts/d1/schools/FRESH/imports")["items"][0]["status"] == "succeeded"
    browser.save_screenshot(str(OUTPUT / "imports-after-approve.png"))


def test_calendar_form_validates_as_you_type_and_shows_the_servers_message(browser, stack):
    open_school(browser, stack, "FRESH")
    form = browser.find_element(By.ID, "calendar")
    form.find_element(By.NAME, "school_year").send_keys("2026-2027")
    first, last = form.find_element(By.NAME, "first_day"), form.find_element(By.NAME, "last_day")
    browser.execute_script(
        "arguments[0].value='2026-08-20'; arguments[1].value='2026-08-01';"
        "arguments[1].dispatchEvent(new Event('input', {bubbles: true}));",
        first,
        last,
    )
    assert (
        "after the first day"
        in browser.find_element(By.CSS_SELECTOR, '.field-error[data-for="last_day"]').text
    )
    browser.execute_script(
        "arguments[0].value='2027-06-10'; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        last,
    )
    zone = form.find_element(By.NAME, "timezone")
    zone.clear()
    zone.send_keys("Mars/Olympus")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    message = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, '.field-error[data-for="timezone"]').text
    )
    assert "unknown time zone" in message
