"""The source tables by role; the one list the migration, the connector and the tests share."""

from __future__ import annotations

BUSINESS_TABLES: tuple[str, ...] = (
    "bands", "venues", "performances", "people", "purchases", "tickets",
)
"""The ticketing tables of the design, in foreign-key order (parents first)."""

CDC_TABLES: tuple[str, ...] = ("heartbeat", "debezium_signal")
"""Tables that exist for the change capture itself."""

PUBLISHED_TABLES: tuple[str, ...] = BUSINESS_TABLES + CDC_TABLES
"""Everything in the publication: the replication role may read these and nothing else."""


def qualified(schema: str, tables: tuple[str, ...] = PUBLISHED_TABLES) -> list[str]:
    """`schema.table` names, as Debezium's include lists and the publication spell them."""
    return [f"{schema}.{table}" for table in tables]
