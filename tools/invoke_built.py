"""Runs one handler from `sam build` output as Lambda would: its own folder, the layer, boto3.

Usage (under the Lambda's Python, with only boto3 installed):
    python3.13 tools/invoke_built.py .aws-sam/build ImporterFunction importer_handler.handler < event.json
Prints the handler's return value as JSON on the last line of stdout.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


class Context:
    function_name = "built"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:built"
    memory_limit_in_mb = 512
    aws_request_id = "built-check"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def main() -> None:
    build, function, handler = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    # Lambda's own search path: the function's code, then the layer's python/ folder.
    sys.path[:0] = [str(build / function), str(build / "SharedLayer" / "python")]
    module_name, function_name = handler.rsplit(".", 1)
    entry = getattr(importlib.import_module(module_name), function_name)
    result = entry(json.load(sys.stdin), Context())
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
