"""The stores the API uses, built lazily on first request and replaceable in tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sis_imports.aws import Clients
from sis_imports.config import Settings, settings
from sis_imports.records import ImportRecords
from sis_imports.schools import Schools

if TYPE_CHECKING:
    from sis_imports.decisions import Decisions

API_LEASE_WAIT_SECONDS = 5.0


@dataclass
class Services:
    settings: Settings
    clients: Clients

    @cached_property
    def records(self) -> ImportRecords:
        return ImportRecords(self.clients.dynamodb, self.settings.imports_table)

    @cached_property
    def schools(self) -> Schools:
        return Schools(self.clients.dynamodb, self.settings.schools_table)

    @cached_property
    def decisions(self) -> Decisions:
        """Approve and rollback apply rosters exactly as the importer does. They are rare, so the
        importer and its readers are loaded on the first of them, not on every cold start."""
        from sis_imports.decisions import Decisions  # noqa: PLC0415
        from sis_imports.importer import Importer  # noqa: PLC0415

        # A school being imported answers at once (409) rather than near the API's 30-second limit.
        return Decisions(Importer(self.settings, self.clients, lease_wait_seconds=API_LEASE_WAIT_SECONDS))


_services: Services | None = None


def services() -> Services:
    global _services  # noqa: PLW0603 - one set of clients per warm container
    if _services is None:
        _services = Services(settings(), Clients())
    return _services


def use_services(replacement: Services | None) -> None:
    """For tests: run the API against other stores (None resets to the environment's)."""
    global _services  # noqa: PLW0603
    _services = replacement
