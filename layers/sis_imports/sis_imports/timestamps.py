"""Times from events: every function takes "now" from its event, so a test can set the clock."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_event_time(value: str) -> datetime:
    """ISO 8601 as AWS writes it ('2026-12-03T02:15:00.123Z'), always timezone-aware."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def from_epoch_millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)
