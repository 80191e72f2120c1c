"""The Powertools Logger, Metrics and Tracer every handler and domain module shares.

Creating them touches no AWS client, so module level is safe (unlike boto3 clients).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()
tracer = Tracer()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
