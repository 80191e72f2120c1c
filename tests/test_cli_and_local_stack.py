"""The `sis-imports` command line and `local up`, run as a person would, in subprocesses."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from sis_imports.synthetic import generate_school, write_sloopy

from .uploads import sloopy

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "sis_imports.cli.main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_check_passes_a_good_upload_and_fails_a_broken_one_with_the_line(tmp_path: Path):
    good = cli("check", str(sloopy(tmp_path / "good.zip")))
    assert good.returncode == 0, good.stderr
    assert "format: sloopy" in good.stdout and "3 students" in good.stdout
    broken = cli(
        "check", str(sloopy(tmp_path / "bad.zip", Students_txt="S1\tA\tB\t9\nS2\tKim\nS3\tC\tD\t9\n"))
    )
    assert broken.returncode == 0  # one short row is a warning, not a failure
    assert "Students.txt:2" in broken.stdout
    strict = cli(
        "check",
        "--strict",
        str(sloopy(tmp_path / "bad.zip", Students_txt="S1\tA\tB\t9\nS2\tKim\nS3\tC\tD\t9\n")),
    )
    assert strict.returncode == 1 and "Students.txt:2" in strict.stdout
    refused = cli("check", "--json", str(sloopy(tmp_path / "worse.zip", Sections_txt=None)))
    assert refused.returncode == 1
    report = json.loads(refused.stdout)
    assert report["ok"] is False and report["errors"][0]["code"] == "missing_file"
    mostly_bad = cli("check", str(sloopy(tmp_path / "cols.zip", Students_txt="S1 A B\nS2 C D\n")))
    assert mostly_bad.returncode == 1 and "Students.txt" in mostly_bad.stdout
    assert "the first at line 1" in mostly_bad.stdout  # the refusal names where to look


def test_check_a_folder(tmp_path: Path):
    result = cli("check", str(ROOT / "examples" / "sloopy-CTS" / "night1"))
    assert result.returncode == 0 and "120 students" in result.stdout


def test_errors_are_one_line_without_a_traceback(tmp_path: Path):
    missing = cli("check", str(tmp_path / "nope.zip"))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    not_running = cli(
        "history", "--district", "d1", "--school", "CTS", env={"SIS_IMPORTS_HOME": str(tmp_path)}
    )
    assert not_running.returncode == 1 and "isn't running" in not_running.stderr
    assert "Traceback" not in not_running.stderr


@pytest.fixture
def local_stack(tmp_path: Path):
    aws_port, api_port = free_port(), free_port()
    # A person's shell: none of the POWERTOOLS_* settings this test process has.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    env = {**clean, "SIS_IMPORTS_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    output = tmp_path / "local-up.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [*CLI, "local", "up", "--aws-port", str(aws_port), "--api-port", str(api_port)],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + 60
    while not (tmp_path / "home" / "local.json").exists():
        assert process.poll() is None, output.read_text()
        assert time.monotonic() < deadline, "local up did not start"
        time.sleep(0.2)
    yield {"aws": f"http://127.0.0.1:{aws_port}", "api": f"http://127.0.0.1:{api_port}", "env": env}
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert not (tmp_path / "home" / "local.json").exists()
    log = output.read_text()
    # The handlers ran with the template's settings, and nothing failed along the way.
    assert '"service":"sis-imports"' in log and "service_undefined" not in log
    assert "Traceback" not in log, log[-3000:]


def get(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_local_stack_imports_an_upload_and_serves_the_history(local_stack, tmp_path: Path):
    school = generate_school("CTS", students=150)
    path = write_sloopy([school], tmp_path / "cts.zip")
    # Any AWS client pointed at the stack works unchanged.
    s3 = boto3.client(
        "s3",
        endpoint_url=local_stack["aws"],
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    (bucket,) = [
        b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("sis-imports-uploads-")
    ]
    s3.upload_file(str(path), bucket, "uploads/d1/CTS/nightly export.zip")

    token = subprocess.run(
        [*CLI, "local", "token", "--role", "school_admin", "--district", "d1", "--school", "CTS"],
        capture_output=True,
        text=True,
        env=local_stack["env"],
        check=True,
    ).stdout.strip()
    url = f"{local_stack['api']}/districts/d1/schools/CTS/imports"
    deadline = time.monotonic() + 15
    items: list[dict] = []
    while time.monotonic() < deadline and not items:
        status, body = get(url, token)
        assert status == 200, body
        items = body["items"]
        time.sleep(0.2)
    assert items and items[0]["status"] == "succeeded"
    assert {e: c["total"] for e, c in items[0]["counts"].items()} == school.counts()

    assert get(url, token + "x")[0] == 401
    assert get(url, "")[0] == 401
    other = subprocess.run(
        [*CLI, "local", "token", "--role", "school_admin", "--district", "d1", "--school", "LHS"],
        capture_output=True,
        text=True,
        env=local_stack["env"],
        check=True,
    ).stdout.strip()
    assert get(url, other)[0] == 403

    shown = cli("history", "--district", "d1", "--school", "CTS", env=local_stack["env"])
    assert shown.returncode == 0, shown.stderr
    assert "succeeded" in shown.stdout and f"{len(school.students)} ({len(school.students)})" in shown.stdout
    assert "Alert: ok" in shown.stdout

    sent = cli(
        "upload",
        str(ROOT / "examples" / "sloopy-CTS" / "night2"),
        "--district",
        "d1",
        "--school",
        "CTS",
        "--endpoint-url",
        local_stack["aws"],
        env=local_stack["env"],
    )
    assert sent.returncode == 0, sent.stderr
    assert "uploaded to s3://" in sent.stdout
