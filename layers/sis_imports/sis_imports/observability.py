"""The Powertools Logger, Metrics and Tracer every handler and domain module shares.

Creating them touches no AWS client, so module level is safe (unlike boto3 clients).

Outside Lambda (tests, the CLI, the local stack) Powertools turns tracing off, but the X-Ray SDK
builds its recorder all the same, and outside Lambda that recorder's sampler creates a botocore
client (aws-xray-sdk #273, #311): about 100 ms of every local start. There the Tracer is given a
provider that does nothing, through Powertools' own `provider` parameter. In Lambda, the Tracer is
the usual X-Ray one.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class NoTracing(BaseProvider):
    """A tracing provider that records nothing, for wherever Powertools disables tracing anyway."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def _outside_lambda() -> bool:
    return not os.environ.get("LAMBDA_TASK_ROOT")


logger = Logger()
metrics = Metrics()
tracer = Tracer(disabled=True, provider=NoTracing()) if _outside_lambda() else Tracer()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
