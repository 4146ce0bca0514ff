"""Errors of a replay; each says what happened, what state the warehouse is in and what
to do (a failed replay never touches the live tables before the swap)."""

from __future__ import annotations

from warehouse.errors import WarehouseError


class ReplayError(WarehouseError):
    """A replay could not finish; the live tables are unchanged unless the text says so."""


class ShadowCheckFailed(ReplayError):
    """The rebuilt shadow tables disagree with what was read: no swap was made."""
