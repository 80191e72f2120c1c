"""`sis-imports upload`: what Sloopy does; zip a folder if needed and put it under uploads/."""

from __future__ import annotations

import sys
import tempfile
import threading
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from sis_imports.upload_keys import upload_key


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                zf.write(path, path.name)
    return target


class Progress:
    """A one-line progress bar on stderr, for long uploads."""

    def __init__(self, total: int):
        self.total = max(total, 1)
        self.sent = 0
        self._lock = threading.Lock()

    def __call__(self, sent: int) -> None:
        with self._lock:
            self.sent += sent
            done = self.sent / self.total
            bar = "#" * int(done * 30)
            sys.stderr.write(f"\r  [{bar:<30}] {done:6.1%} of {self.total:,} bytes")
            if self.sent >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def find_bucket(session: Any, stack_name: str) -> str:
    """The deployed stack's upload bucket, from its outputs."""
    outputs = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]["Outputs"]
    return next(o["OutputValue"] for o in outputs if o["OutputKey"] == "UploadBucketName")


def run(path: Path, district_id: str, school_id: str | None, bucket: str, endpoint_url: str | None) -> str:
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    session = boto3.session.Session()
    if endpoint_url and session.get_credentials() is None:
        # A local endpoint (moto) takes any credentials; a real one is never reached without them.
        session = boto3.session.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto's placeholder, not a secret
            region_name=session.region_name or "us-east-1",
        )
    s3 = session.client("s3", endpoint_url=endpoint_url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = upload_key(district_id, school_id, f"sloopy-{stamp}.zip")
    with tempfile.TemporaryDirectory() as folder:
        source = zip_folder(path, Path(folder) / "upload.zip") if path.is_dir() else path
        s3.upload_file(str(source), bucket, key, Callback=Progress(source.stat().st_size))
    print(f"uploaded to s3://{bucket}/{key}")
    return key
