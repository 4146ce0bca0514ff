"""The shadow database a replay fills, and the swap that makes it live.

The shadow is built by the warehouse migrations themselves, so its materialized views
feed its own aggregates exactly as the live ones do. Which tables are swapped is read
from ClickHouse, not listed here: the fact table and every table a materialized view
fed from it (transitively) writes to. An aggregate added by a later migration is rebuilt
and swapped without touching this module.

The swap is one `EXCHANGE TABLES a AND b, c AND d, ...` statement (Atomic databases,
the default engine of both the ClickHouse server and the embedded engine): each pair is
exchanged atomically and the statement runs in milliseconds, so a reader sees either
the old or the new tables (across tables, for those milliseconds, possibly a mix).
Materialized views and views resolve their tables by name, so after the exchange the
live views read, and the live materialized views write, the rebuilt tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from warehouse.executor import Executor
from warehouse.migrate import applied_versions, migrate
from warehouse.replay.errors import ReplayError

FACT_TABLE = "fact_ticket_sales"
_TO = re.compile(r"\bTO\s+`?([A-Za-z0-9_]+)`?\.`?([A-Za-z0-9_]+)`?", re.IGNORECASE)


def create_shadow(executor: Executor, *, live: str, shadow: str,
                  progress: Callable[[str], None] = lambda _line: None,
                  dedup_window_blocks: int | None = None) -> None:
    """Migrate a new database to the live schema; refuse when live is behind the files."""
    live_versions = applied_versions(executor, live)
    migrate(executor, shadow, progress=progress, dedup_window_blocks=dedup_window_blocks)
    shadow_versions = applied_versions(executor, shadow)
    if live_versions != shadow_versions:
        drop_database(executor, shadow)
        missing = sorted(set(shadow_versions) - set(live_versions))
        raise ReplayError(
            f"replay: the live database {live} is not at the schema of "
            f"warehouse/migrations (missing or changed: {missing}); run `boxoffice "
            "warehouse migrate` first so the shadow and the live tables match. Nothing "
            "was changed.")


def derived_tables(executor: Executor, database: str) -> list[str]:
    """The fact table and every table fed from it by materialized views, in feed order."""
    views = executor.rows(
        "SELECT name, create_table_query FROM system.tables "
        f"WHERE database = '{database}' AND engine = 'MaterializedView'")
    sources = {name: set(deps) for name, deps in executor.rows(
        "SELECT name, dependencies_table FROM system.tables "
        f"WHERE database = '{database}'")}
    targets: dict[str, str] = {}
    for view, create in views:
        match = _TO.search(str(create))
        if match is None:
            raise ReplayError(
                f"replay: materialized view {database}.{view} has no TO table; replay "
                "only rebuilds views that write to named tables (as every migration "
                "does). Add TO <table> in a new migration.")
        if match.group(1) != database:
            raise ReplayError(
                f"replay: materialized view {database}.{view} writes to another database "
                f"({match.group(1)}); replay cannot rebuild it. Nothing was changed.")
        targets[view] = match.group(2)
    ordered = [FACT_TABLE]
    for table in ordered:
        for view in sorted(sources.get(table, ())):
            target = targets.get(view)
            if target is not None and target not in ordered:
                ordered.append(target)
    return ordered


def exchange_statement(live: str, shadow: str, tables: list[str]) -> str:
    pairs = ", ".join(f"{live}.{t} AND {shadow}.{t}" for t in tables)
    return f"EXCHANGE TABLES {pairs}"


def swap(executor: Executor, *, live: str, shadow: str, tables: list[str]) -> None:
    """Exchange every rebuilt table with its live counterpart in one statement."""
    executor.command(exchange_statement(live, shadow, tables))
    after = derived_tables(executor, live)
    if set(after) != set(tables):
        raise ReplayError(
            f"replay: after the swap the live materialized views feed {after}, expected "
            f"{tables}. The rebuilt tables ARE live now (the previous ones are in "
            f"{shadow}); check `SHOW CREATE` of the views in {live}.")


def drop_database(executor: Executor, database: str) -> None:
    executor.command(f"DROP DATABASE IF EXISTS {database} SYNC")
