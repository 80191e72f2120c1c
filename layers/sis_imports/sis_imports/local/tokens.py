"""Bearer tokens for the local stack: HS256 JWTs carrying the claims Cognito's authorizer passes on.

Only the local stand-in for the JWT authorizer accepts them; in AWS, API Gateway verifies
Cognito's RS256 tokens itself and these mean nothing there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

LIFETIME_SECONDS = 12 * 3600


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: str, claims: dict[str, Any], now: float) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({**claims, "iat": int(now), "exp": int(now) + LIFETIME_SECONDS}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def verify(secret: str, authorization: str, now: float) -> dict[str, str] | None:
    """The claims of a valid 'Bearer <token>', or None."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return None
    header, payload, signature = token.split(".")
    expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        claims = json.loads(_unb64(payload))
    except (ValueError, json.JSONDecodeError):
        return None
    if not isinstance(claims, dict) or claims.get("exp", 0) < now:
        return None
    return {key: str(value) for key, value in claims.items()}
