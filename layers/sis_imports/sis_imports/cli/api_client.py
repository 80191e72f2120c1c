"""A small HTTP client for the sis-imports API, with errors worded for a person."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class ApiError(Exception):
    pass


def get_json(url: str, token: str, timeout: float = 10) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - http(s) only
    if not url.startswith(("http://", "https://")):
        raise ApiError(f"{url} is not an http(s) URL")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise ApiError(
                "the token was refused (401): get a new one with `sis-imports local token`"
            ) from exc
        try:
            message = json.loads(exc.read()).get("message", "")
        except (ValueError, AttributeError):
            message = ""
        raise ApiError(f"the API answered {exc.code}: {message or exc.reason}") from exc
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        raise ApiError(
            f"cannot reach the API at {url.split('/districts', maxsplit=1)[0]}: is the stack running?"
        ) from exc
