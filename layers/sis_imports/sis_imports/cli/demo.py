"""`sis-imports demo` (and `make demo`): the main job on the embedded default.

Starts the local stack, uploads the bundled sample school (two nights), waits for the
imports, prints the history table and the alert status, and shuts the stack down.
"""

from __future__ import annotations

import time
from pathlib import Path

from sis_imports.cli import history, upload
from sis_imports.local import tokens
from sis_imports.local.events import claims_for
from sis_imports.local.stack import LocalStack

DISTRICT, SCHOOL = "d1", "CTS"


def run(root: Path, timeout: float = 60) -> int:
    examples = root / "examples" / "sloopy-CTS"
    stack = LocalStack(root, quiet=True)
    stack.start()
    try:
        print(f"local stack up: AWS at {stack.aws_endpoint}, API at {stack.api_url}")
        for night in ("night1", "night2"):
            upload.run(examples / night, DISTRICT, SCHOOL, stack.bucket, stack.aws_endpoint)
            _wait_for_imports(stack, expected=1 + ("night1", "night2").index(night), timeout=timeout)
        token = tokens.issue(stack.secret, claims_for("district_admin", DISTRICT), time.time())
        print()
        print(history.render(history.fetch(stack.api_url, token, DISTRICT, SCHOOL)))
    finally:
        stack.stop()
    return 0


def _wait_for_imports(stack: LocalStack, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while stack.imports_delivered < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the import did not finish within {timeout:.0f} seconds")
        time.sleep(0.1)
