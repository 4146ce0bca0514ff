"""In-process ClickHouse (chdb) for warehouse unit tests: the real engine, no server.

chdb sessions share one engine per process, so every test works in its own database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from contracts.facts import FactRow
from warehouse.executor import ChdbExecutor
from warehouse.migrate import migrate
from warehouse.sink.writer import INSERT_SETTINGS


def migrated_database(executor: ChdbExecutor, prefix: str = "wh") -> str:
    database = f"{prefix}_{uuid.uuid4().hex[:10]}"
    migrate(executor, database)
    return database


def insert_lines(executor: ChdbExecutor, database: str, table: str,
                 lines: Iterable[bytes], *, token: str | None = None,
                 dedup_through_views: bool = True) -> None:
    """Insert JSONEachRow lines with the sink's settings (and a token if given)."""
    settings = {**INSERT_SETTINGS,
                "deduplicate_blocks_in_dependent_materialized_views":
                    int(dedup_through_views)}
    if token is not None:
        settings["insert_deduplication_token"] = token
    text = ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}"
                     for k, v in settings.items())
    body = b"\n".join(lines).decode()
    executor.command(f"INSERT INTO {database}.{table} SETTINGS {text} FORMAT JSONEachRow\n"
                     f"{body}")


def fact_lines(rows: Iterable[FactRow]) -> list[bytes]:
    return [row.to_json() for row in rows]
