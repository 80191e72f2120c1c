"""The Imports page and its two assets, served by the API itself: no CDN, no build step.

These are the only routes without the JWT authorizer; the page holds no data, and every call it
makes goes through the authorized API with the user's token.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

router = Router()
ASSETS = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' blob: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def _read(name: str) -> str:
    return resources.files("sis_imports.page").joinpath(name).read_text(encoding="utf-8")


@router.get("/", include_in_schema=False)
def index() -> Response[str]:
    # The hosted sign-in URL comes from the template (SIGN_IN_URL); empty means "paste a token".
    html = _read("index.html").replace("{{SIGN_IN_URL}}", os.environ.get("SIGN_IN_URL", "").replace('"', ""))
    return Response(200, "text/html; charset=utf-8", html, headers=HEADERS)


@router.get("/assets/<name>", include_in_schema=False)
def asset(name: str) -> Response[str]:
    if name not in ASSETS:
        raise NotFoundError("no such asset")
    return Response(200, ASSETS[name], _read(name), headers=HEADERS)
