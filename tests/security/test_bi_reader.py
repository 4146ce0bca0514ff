"""The BI user (Superset's ClickHouse connection) cannot change data, schema or its own
limits.

tests/integration/warehouse/test_migrate.py already refuses INSERT, ALTER ... DELETE,
DROP TABLE, DROP VIEW and CREATE TABLE for the reader. Missing there, and checked here
on the running pipeline's warehouse: the other ways to write (TRUNCATE, schema ALTER,
RENAME, OPTIMIZE, INSERT INTO FUNCTION, CREATE DATABASE) and lifting its own read-only
or time limit, per session or per query.
"""

from __future__ import annotations

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from tests.security.conftest import Secured
from warehouse.executor import connect
from warehouse.users import READER_MAX_EXECUTION_SECONDS

STATEMENTS = [
    "TRUNCATE TABLE {db}.fact_ticket_sales",
    "ALTER TABLE {db}.fact_ticket_sales ADD COLUMN leak String",
    "ALTER TABLE {db}.dim_bands UPDATE name = 'x' WHERE 1",
    "RENAME TABLE {db}.fact_ticket_sales TO {db}.fact_gone",
    "OPTIMIZE TABLE {db}.fact_ticket_sales FINAL",
    "INSERT INTO FUNCTION null('x UInt8') VALUES (1)",
    "CREATE DATABASE reader_sneaky",
    "SET readonly = 0",
    "SET max_execution_time = 0",
]


@pytest.mark.parametrize("statement", STATEMENTS)
def test_reader_refuses(secured: Secured, statement: str) -> None:
    settings = secured.settings
    reader = connect(settings, reader=True)
    try:
        with pytest.raises(DatabaseError):
            reader.command(statement.format(db=settings.clickhouse_database))
    finally:
        reader.close()


@pytest.mark.parametrize("setting", [{"readonly": 0}, {"max_execution_time": 0}])
def test_reader_cannot_lift_its_limits_per_query(secured: Secured,
                                                 setting: dict[str, int]) -> None:
    reader = connect(secured.settings, reader=True)
    try:
        with pytest.raises(DatabaseError):
            reader.query("SELECT 1", settings=setting)
    finally:
        reader.close()


def test_reader_runs_with_its_limits(secured: Secured) -> None:
    reader = connect(secured.settings, reader=True)
    try:
        rows = dict(reader.query("SELECT name, value FROM system.settings WHERE name IN "
                                 "('readonly', 'max_execution_time')").result_rows)
    finally:
        reader.close()
    assert rows["readonly"] != "0"
    assert float(rows["max_execution_time"]) == READER_MAX_EXECUTION_SECONDS
