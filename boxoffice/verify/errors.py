"""Errors of verify: one side could not be read (not a mismatch)."""

from __future__ import annotations

from boxoffice.errors import BoxofficeError


class VerifyError(BoxofficeError):
    """Postgres or ClickHouse could not be read; the message says which and what to do."""
