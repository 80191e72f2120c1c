"""Shared fixtures: moto with every resource built from template.yaml, and handlers loaded from
their CodeUri folders exactly as Lambda loads them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sis_imports.local.environment import powertools_environment
from sis_imports.local.template import Stack, create_stack, load_template, queue_triggers

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "samples"
TEMPLATE = load_template(ROOT / "template.yaml")

# Powertools reads its settings when Logger and Metrics are built, at first import of the
# package: give it the template's global environment before anything imports it, as Lambda does.
os.environ.update(powertools_environment(TEMPLATE))

from sis_imports import config  # noqa: E402
from sis_imports.api.services import use_services  # noqa: E402
from sis_imports.local.events import http_event, s3_put_event, schedule_event, sqs_event  # noqa: E402
from sis_imports.local.lambdas import LambdaContext, load_handler  # noqa: E402


@dataclass
class Cloud:
    """A moto account holding the template's resources, and ways to invoke each function."""

    stack: Stack
    session: Any

    @property
    def bucket(self) -> str:
        return self.stack.refs["UploadBucket"]

    def client(self, name: str) -> Any:
        return self.session.client(name)

    def handler(self, logical_id: str) -> Any:
        return load_handler(ROOT, self.stack, logical_id)

    def upload(self, path: Path, key: str, at: datetime) -> dict[str, Any]:
        """Puts the file in the bucket and returns the S3 event Lambda would receive."""
        s3 = self.client("s3")
        response = s3.put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes())
        return s3_put_event(
            self.bucket,
            key,
            size=path.stat().st_size,
            etag=response["ETag"].strip('"'),
            version_id=response.get("VersionId"),
            at=at,
        )

    def import_file(self, path: Path, key: str, at: datetime) -> dict[str, Any]:
        return self.invoke("ImporterFunction", self.upload(path, key, at))

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        result = self.handler(logical_id)(event, LambdaContext(logical_id))
        if logical_id == "ImporterFunction" and isinstance(result, dict):
            # A district bundle hands each school to the queue: deliver them as Lambda's SQS source would.
            done = {(r["school_id"], r["import_id"]): r for r in self.drain_school_queue()}
            result["imports"] = [done.get((r["school_id"], r["import_id"]), r) for r in result["imports"]]
        return result

    def drain_school_queue(self) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        ((function, queue),) = queue_triggers(self.stack)
        url, arn = self.stack.refs[queue], self.stack.arns[queue]
        results: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []):
            handled = self.handler(function)(sqs_event(messages, arn), LambdaContext(function))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
            results.extend(handled["imports"])
        return results

    def api(self, method: str, path: str, claims: dict[str, str] | None, at: datetime, **kwargs: Any) -> Any:
        return self.invoke("ApiFunction", http_event(method, path, claims=claims, at=at, **kwargs))

    def check(self, at: datetime) -> Any:
        return self.invoke("CheckerFunction", schedule_event(at))

    def scan(self, logical_id: str) -> list[dict[str, Any]]:
        client = self.client("dynamodb")
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(TableName=self.stack.refs[logical_id]):
            items.extend(page["Items"])
        return items


@contextmanager
def cloud_for(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    """The template's resources in an active moto mock, with every function's environment set."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    try:
        session = boto3.session.Session(region_name="us-east-1")
        stack = create_stack(TEMPLATE, session)
        for function in stack.resources("AWS::Serverless::Function"):
            for key, value in stack.function_environment(function).items():
                monkeypatch.setenv(key, value)
        config.settings.cache_clear()
        use_services(None)
        yield Cloud(stack, session)
    finally:
        config.settings.cache_clear()
        use_services(None)
        monkeypatch.undo()


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    with mock_aws(), cloud_for(monkeypatch) as world:
        yield world


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip("../shared/samples is not present in this checkout")
    return SAMPLES


@pytest.fixture
def log_output() -> Iterator[Any]:
    """Everything the shared Powertools logger writes during the test, as JSON lines."""
    import io

    from sis_imports.observability import logger

    buffer = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    handler.setStream(previous)  # type: ignore[attr-defined]
