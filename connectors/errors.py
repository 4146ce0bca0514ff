"""Errors of the source side: the ticketing database, its traffic and the connector."""

from __future__ import annotations

from contracts.errors import BoxofficeError


class SourceError(BoxofficeError):
    """The ticketing database is not in the state an operation needs (schema, data)."""


class ConnectorError(BoxofficeError):
    """Kafka Connect refused a request, or the connector did not reach the wanted state."""


class SlotInvalidatedError(ConnectorError):
    """The replication slot lost WAL it still needed: changes were skipped at the source.

    Never papered over by a silent restart; the recovery is a new snapshot (docs/source.md).
    """
