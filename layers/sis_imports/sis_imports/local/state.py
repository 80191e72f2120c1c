"""Where a running `sis-imports local up` says how to reach it, for `local token`, `upload` and `history`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


class NotRunning(Exception):
    pass


@dataclass
class LocalState:
    api_url: str
    aws_endpoint: str
    bucket: str
    secret: str
    pid: int


def state_file() -> Path:
    home = Path(os.environ.get("SIS_IMPORTS_HOME") or Path.home() / ".sis-imports")
    return home / "local.json"


def save(state: LocalState) -> None:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)  # holds the token secret: owner only
    path.write_text(json.dumps(asdict(state)))


def load() -> LocalState:
    path = state_file()
    if not path.is_file():
        raise NotRunning("the local stack isn't running: start it with `sis-imports local up`")
    state = LocalState(**json.loads(path.read_text()))
    try:
        os.kill(state.pid, 0)
    except ProcessLookupError as exc:
        raise NotRunning(
            "the local stack isn't running (it stopped): start it with `sis-imports local up`"
        ) from exc
    except PermissionError:
        pass  # running under another user; let the request decide
    return state


def clear(pid: int) -> None:
    path = state_file()
    if path.is_file() and json.loads(path.read_text()).get("pid") == pid:
        path.unlink()
