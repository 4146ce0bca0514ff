"""Which topic goes to which table, decoded how: the sink's only knowledge of topics."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.columns import DEFAULT_PREFIX, table_map
from contracts.settings import Settings
from contracts.topics import cdc_prefix
from warehouse.sink.added_columns import EXTENDABLE_TABLES, AddedColumns
from warehouse.sink.records import (
    DIMENSION_COLUMNS,
    Decoder,
    RunCheck,
    canonical_facts,
    decode_fact,
    decode_heartbeat,
    dimension_decoder,
)


@dataclass(frozen=True)
class Route:
    topic: str
    table: str
    decode: Decoder
    text_columns: tuple[str, ...] = ()
    """Columns that may arrive as Debezium's TOAST placeholder (`placeholders.py`)."""
    stored_as_is: RunCheck | None = None
    """A whole-run shortcut of `decode`: True when it would return every value as is."""
    added: AddedColumns | None = None
    """A dimension's columns added at the source, to add to its table before storing."""


def routes(settings: Settings, *, facts_topic: str | None = None,
           heartbeat_topic: str | None = None,
           dimension_prefix: str | None = None) -> dict[str, Route]:
    """Topic name -> route. Overrides let tests use their own unique topics."""
    facts = facts_topic or settings.facts_topic
    heartbeats = heartbeat_topic or settings.heartbeat_topic
    prefix = dimension_prefix or cdc_prefix(settings)
    table = {
        facts: Route(facts, "fact_ticket_sales", decode_fact, stored_as_is=canonical_facts),
        heartbeats: Route(heartbeats, "heartbeats", decode_heartbeat),
    }
    for source in DIMENSION_COLUMNS:
        topic = f"{prefix}.{source}"
        text = tuple(c for c, kind in DIMENSION_COLUMNS[source].items() if kind == "str")
        mapped = table_map(settings.column_map, source)
        added = None
        if source in EXTENDABLE_TABLES:
            added = AddedColumns(source, frozenset(DIMENSION_COLUMNS[source]) | frozenset(
                name for name in mapped.values() if not name.startswith(DEFAULT_PREFIX)))
        table[topic] = Route(topic, f"dim_{source}", dimension_decoder(source, mapped, added),
                             text, added=added)
    return table
