"""Loads a function's handler from its CodeUri folder, the way the Lambda runtime does."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sis_imports.local.template import Stack, handler_location

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(root: Path, stack: Stack, logical_id: str) -> Handler:
    """A fresh module each call, so module-level state (cached clients) starts clean, as in a cold start."""
    code_uri, handler = handler_location(stack, logical_id)
    module_name, function_name = handler.rsplit(".", 1)
    path = root / code_uri / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler_function: Handler = getattr(module, function_name)
    return handler_function


class LambdaContext:
    """The few context fields Powertools reads."""

    function_name = "local"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def __init__(self, function_name: str = "local"):
        self.function_name = function_name
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000
