"""Writes (or checks) the layer's requirements.txt from pyproject.toml's dependencies.

SAM's builder reads requirements.txt, not pyproject.toml (aws-sam-cli #1366), so the one
source of truth is pyproject and this file is generated from it.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "layers" / "sis_imports" / "requirements.txt"
HEADER = "# Generated from pyproject.toml by `make layer-requirements`; do not edit.\n"


def expected() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return HEADER + "".join(f"{requirement}\n" for requirement in project["dependencies"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.write:
        TARGET.write_text(expected())
        return 0
    if TARGET.read_text() != expected():
        print(f"{TARGET.relative_to(ROOT)} is stale: run `make layer-requirements`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
