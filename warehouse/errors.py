"""Errors of the warehouse package; each message says what happened and what to do."""

from __future__ import annotations

from contracts.errors import BoxofficeError


class WarehouseError(BoxofficeError):
    """Root of the warehouse's own errors."""


class MigrationError(WarehouseError):
    """A migration file is malformed, changed after it was applied, or failed to apply."""


class ClickHouseUnavailable(WarehouseError):
    """ClickHouse did not answer; the caller may retry (the sink does, with backoff)."""
