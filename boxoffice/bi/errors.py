"""Errors of the BI layer, each saying what Superset answered and what to do."""

from __future__ import annotations

from boxoffice.errors import BoxofficeError


class SupersetError(BoxofficeError):
    """Superset refused or failed a request; carries the HTTP status when there was one."""

    def __init__(self, problem: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(f"superset: {problem}")
