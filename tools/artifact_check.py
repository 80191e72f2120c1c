"""Checks the real artifact: `sam build` output, run under the Lambda runtime's Python with only the
layer and boto3, against a moto server holding the template's resources.

It imports a school through the built importer, reads the history through the built API handler
and runs the built checker. Any failure exits non-zero with the handler's output.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer
from sis_imports.local.events import claims_for, http_event, s3_put_event, schedule_event
from sis_imports.local.template import create_stack, handler_location, load_template
from sis_imports.synthetic import generate_school, write_sloopy

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"


def invoke(python: str, env: dict[str, str], logical_id: str, handler: str, event: dict) -> dict:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [python, str(ROOT / "tools" / "invoke_built.py"), str(BUILD), logical_id, handler],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{logical_id} failed under {python}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    python = sys.argv[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        base_env = {
            "PATH": os.environ["PATH"],
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        stack = create_stack(load_template(ROOT / "template.yaml"), session)
        bucket = stack.refs["UploadBucket"]

        def run(logical_id: str, event: dict) -> dict:
            env = {**base_env, **stack.function_environment(logical_id)}
            return invoke(python, env, logical_id, handler_location(stack, logical_id)[1], event)

        at = datetime(2026, 10, 5, 9, tzinfo=UTC)
        with tempfile.TemporaryDirectory() as folder:
            upload = write_sloopy([generate_school("CTS", students=800)], Path(folder) / "cts.zip")
            put = session.client("s3").put_object(
                Bucket=bucket, Key="uploads/d1/CTS/cts.zip", Body=upload.read_bytes()
            )
            event = s3_put_event(
                bucket,
                "uploads/d1/CTS/cts.zip",
                size=upload.stat().st_size,
                etag=put["ETag"].strip('"'),
                version_id=put.get("VersionId"),
                at=at,
            )
        result = run("ImporterFunction", event)
        assert result["imports"][0]["status"] == "succeeded", result
        response = run(
            "ApiFunction",
            http_event(
                "GET", "/districts/d1/schools/CTS/imports", claims=claims_for("district_admin", "d1"), at=at
            ),
        )
        body = json.loads(response["body"])
        assert response["statusCode"] == 200 and body["items"][0]["counts"]["students"]["total"] == 800, body
        summary = run("CheckerFunction", schedule_event(at + timedelta(days=4)))
        assert summary["stale"] == 1 and summary["notified_stale"] == 1, summary
        print(f"artifact check passed under {python}: importer, API and checker ran from {BUILD}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
