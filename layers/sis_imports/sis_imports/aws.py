"""boto3 clients, made on first use and never at import time, so tests and moto can swap them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

# Adaptive retries absorb DynamoDB throttling on on-demand tables during a big first load.
_CONFIG = Config(retries={"max_attempts": 10, "mode": "adaptive"})


@dataclass
class Clients:
    """The clients one invocation uses; pass a Clients with your own session in tests."""

    session: Any = None
    _cache: dict[str, Any] = field(default_factory=dict)

    def _client(self, name: str) -> Any:
        client = self._cache.get(name)
        if client is None:
            # Without an injected session, boto3's default one: credentials are resolved once per container.
            factory: Any = self.session.client if self.session is not None else boto3.client
            client = self._cache[name] = factory(name, config=_CONFIG)
        return client

    @property
    def s3(self) -> Any:
        return self._client("s3")

    @property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @property
    def sns(self) -> Any:
        return self._client("sns")

    @property
    def sqs(self) -> Any:
        return self._client("sqs")
