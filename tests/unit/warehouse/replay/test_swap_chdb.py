"""The shadow and the swap on the real ClickHouse engine in-process (chdb): the rebuilt
tables are found from the views, and after EXCHANGE TABLES the live views read, and the
live materialized views write, the rebuilt tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.facts import FactRow
from warehouse.executor import ChdbExecutor
from warehouse.migrate import migrate
from warehouse.replay.shadow import create_shadow, derived_tables, drop_database, swap


def fact(ticket_id: int, performance_id: int) -> bytes:
    return FactRow(ticket_id=ticket_id, purchase_id=1, performance_id=performance_id,
                   band_id=1, venue_id=1, person_key="k", ticket_price=10,
                   purchase_date="2022-10-07T17:31:02Z",
                   performance_start="2022-10-08T17:00:00Z", festival_year=2022, sign=1,
                   version=1, source_ts_ms=1).to_json()


@pytest.fixture
def executor(tmp_path: Path) -> Iterator[ChdbExecutor]:
    from chdb import session

    chdb = ChdbExecutor(session.Session(str(tmp_path / "chdb")))
    yield chdb
    chdb.close()


def insert(executor: ChdbExecutor, database: str, line: bytes) -> None:
    executor.command(f"INSERT INTO {database}.fact_ticket_sales FORMAT JSONEachRow "
                     + line.decode())


def test_swap_makes_the_rebuilt_tables_live_and_fed(executor: ChdbExecutor) -> None:
    migrate(executor, "live")
    create_shadow(executor, live="live", shadow="shadow")
    tables = derived_tables(executor, "live")
    assert tables[0] == "fact_ticket_sales"
    assert {"agg_sales_by_performance", "agg_sales_by_day_venue_band",
            "agg_sales_by_minute_venue", "ticket_sales_current"} <= set(tables)
    insert(executor, "live", fact(1, 100))
    insert(executor, "shadow", fact(2, 200))

    swap(executor, live="live", shadow="shadow", tables=tables)
    insert(executor, "live", fact(3, 300))  # what the sink writes after the swap

    performances = executor.rows(
        "SELECT performance_id FROM live.agg_sales_by_performance ORDER BY 1")
    assert performances == [(200,), (300,)]
    assert executor.rows("SELECT ticket_id FROM live.ticket_sales_current ORDER BY 1") == \
        [(2,), (3,)]
    counts = {name: tickets for name, _rows, tickets, _revenue
              in executor.rows("SELECT * FROM live.dq_table_counts")}
    assert counts["fact_ticket_sales"] == counts["agg_sales_by_performance"] == 2
    assert executor.rows("SELECT ticket_id FROM shadow.fact_ticket_sales") == [(1,)]
    drop_database(executor, "shadow")
    assert executor.rows("SELECT count() FROM system.databases WHERE name = 'shadow'") \
        == [(0,)]


def test_a_live_database_behind_the_migrations_is_refused(executor: ChdbExecutor) -> None:
    from warehouse.migrate import load_migrations
    from warehouse.replay.errors import ReplayError

    migrate(executor, "old", migrations=load_migrations()[:2])
    with pytest.raises(ReplayError, match="warehouse migrate"):
        create_shadow(executor, live="old", shadow="old_shadow")
    assert executor.rows("SELECT count() FROM system.databases WHERE name = 'old_shadow'") \
        == [(0,)]
