"""The source tables by role, each list written once for every stage.

The migration, the connector's include list, the processors' subscriptions, status'
lag and the replay all read these; a table added to the festival schema is added here.
"""

from __future__ import annotations

BUSINESS_TABLES: tuple[str, ...] = (
    "bands", "venues", "performances", "people", "purchases", "tickets",
)
"""The ticketing tables of the design, in foreign-key order (parents first)."""

CAPTURE_SUPPORT_TABLES: tuple[str, ...] = ("heartbeat", "debezium_signal")
"""Tables that exist for the change capture itself (Debezium's heartbeat action query and
its signal table), not for the business."""

PUBLISHED_TABLES: tuple[str, ...] = BUSINESS_TABLES + CAPTURE_SUPPORT_TABLES
"""Everything in the publication: the replication role may read these and nothing else."""

JOINED_TABLES: tuple[str, ...] = ("tickets", "purchases", "performances")
"""The tables the processors join into fact rows (a ticket, its purchase, its performance)."""

PROCESSOR_INPUT_TABLES: tuple[str, ...] = (*JOINED_TABLES, "heartbeat")
"""Every table whose CDC topic the processors consume: the joined ones and the heartbeat,
which travels the facts' path so freshness measures that path."""


def qualified(schema: str, tables: tuple[str, ...] = PUBLISHED_TABLES) -> list[str]:
    """`schema.table` names, as Debezium's include lists and the publication spell them."""
    return [f"{schema}.{table}" for table in tables]


PERSONAL_COLUMNS: dict[str, tuple[str, ...]] = {"people": ("name",)}
"""Columns of personal data. They are left out of the publication, the connector's
columns and the replication role's grants, so they never leave PostgreSQL: no stage
downstream needs them (people are joined by id; `contracts.facts.person_key` hashes the
id)."""
