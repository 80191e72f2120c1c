"""A per-school lease: two imports of one school never write at the same time.

Held on the school's item with conditional writes. The holder is the import id, so a retry of
the same import takes its own lease back at once, while a different import waits.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sis_imports.schools import Schools


class SchoolBusy(Exception):
    """Another import holds the school; raising lets Lambda retry the event later."""


class SchoolLease:
    def __init__(
        self, schools: Schools, ttl: timedelta, wait_seconds: float = 60.0, poll_seconds: float = 1.0
    ):
        self._schools = schools
        self._ttl = ttl
        self._wait = wait_seconds
        self._poll = poll_seconds

    def acquire(self, district_id: str, school_id: str, holder: str, now: datetime) -> None:
        deadline = time.monotonic() + self._wait
        while True:
            until = (now + self._ttl).isoformat()
            condition: tuple[str, dict[str, str], dict[str, Any]] = (
                "attribute_not_exists(lease_holder) OR lease_holder = :me OR lease_until < :now",
                {},
                {":me": {"S": holder}, ":now": {"S": now.isoformat()}},
            )
            if self._schools.update(
                district_id, school_id, {"lease_holder": holder, "lease_until": until}, condition=condition
            ):
                return
            if time.monotonic() >= deadline:
                raise SchoolBusy(f"school {school_id} is being imported by another upload")
            time.sleep(self._poll)

    def release(self, district_id: str, school_id: str, holder: str) -> None:
        self._schools.update(
            district_id,
            school_id,
            {"lease_holder": None, "lease_until": None},
            condition=("lease_holder = :me", {}, {":me": {"S": holder}}),
        )
