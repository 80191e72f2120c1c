"""The environment a local run of the handlers needs before the package is first imported.

Powertools reads POWERTOOLS_* when Logger and Metrics are built, at the first import of
`sis_imports.observability`. Lambda sets a function's environment before it imports the handler;
a local process that runs the handlers (`local up`, `demo`, the tests) must do the same, or logs
say "service_undefined" and every metric flush fails for want of a namespace.
"""

from __future__ import annotations

import os
from typing import Any

from sis_imports.local.template import Stack

# Quiet runs (the demo, the page tests) tell their own story: warnings only, no metric output.
QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


def powertools_environment(template: dict[str, Any]) -> dict[str, str]:
    """The template's global POWERTOOLS_* variables, resolved (LogLevel's default, for one)."""
    variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    stack = Stack(template)
    return {
        name: str(stack.resolve(value)) for name, value in variables.items() if name.startswith("POWERTOOLS_")
    }


def prepare(template: dict[str, Any], *, quiet: bool = False) -> None:
    """Sets what Lambda would set before the first import; call it before importing the handlers' package."""
    os.environ.update(powertools_environment(template))
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon here
    if quiet:
        os.environ.update(QUIET)
