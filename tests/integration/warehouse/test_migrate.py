"""Migrations over HTTP on the stack's ClickHouse; the reader can read and nothing else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from contracts.settings import Settings
from tests.integration.warehouse.warehouse_http import migrated
from warehouse.executor import ClientExecutor, connect
from warehouse.migrate import load_migrations, migrate
from warehouse.views import load_views

VIEWS = tuple(view.name for view in load_views())


def schema(executor: ClientExecutor, database: str) -> list[tuple[object, ...]]:
    return executor.rows(f"SELECT name, engine, create_table_query FROM system.tables "
                         f"WHERE database = '{database}' ORDER BY name")


def test_migrations_apply_twice_without_change(
        clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    database = unique_name("wh")
    executor = migrated(clickhouse, database)
    before = schema(executor, database)
    assert {name for name, *_ in before} >= {"fact_ticket_sales", "schema_migrations", *VIEWS}
    assert migrate(executor, database) == []
    assert schema(executor, database) == before
    assert executor.rows(f"SELECT count() FROM {database}.schema_migrations") == \
        [(len(load_migrations()),)]


def test_reader_selects_views_and_cannot_write(clickhouse: Settings) -> None:
    database = clickhouse.clickhouse_database
    migrate(ClientExecutor(connect(clickhouse)), database)
    reader = connect(clickhouse, reader=True, database=database)
    for view in VIEWS:
        reader.query(f"SELECT * FROM {database}.{view} LIMIT 1")
    for statement in (
        f"INSERT INTO {database}.fact_ticket_sales (ticket_id, sign) VALUES (1, 1)",
        f"ALTER TABLE {database}.fact_ticket_sales DELETE WHERE 1",
        f"DROP TABLE {database}.fact_ticket_sales",
        f"DROP VIEW {database}.ticket_sales",
        f"CREATE TABLE {database}.sneaky (x UInt8) ENGINE = Memory",
    ):
        with pytest.raises(DatabaseError):
            reader.command(statement)
    ((tables,),) = ClientExecutor(connect(clickhouse)).rows(
        f"SELECT count() FROM system.tables WHERE database = '{database}' "
        f"AND name IN ('fact_ticket_sales', 'ticket_sales')")
    assert tables == 2
