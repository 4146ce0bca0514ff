"""Large text values (TOAST) never reach ClickHouse as Debezium's placeholder.

PostgreSQL stores a text value over ~2 KB out of line (TOAST). When a later update does
not touch that column, pgoutput sends it as "unchanged toast" and Debezium writes
`__debezium_unavailable_value` in its place. A band name (REPLICA IDENTITY DEFAULT, and
copied to `dim_bands`) and a ticketnum (FULL, not carried by facts) are made large, then
rows are updated without touching them, under load.
"""

from __future__ import annotations

import secrets

from connectors.db import connect
from tests.chaos.pipeline import ChaosPipeline
from tests.chaos.scenario import Outcome, settle, under_load
from warehouse.executor import connect as clickhouse

PLACEHOLDER = "__debezium_unavailable_value"


def _large_text() -> str:
    """8,000 characters of random text: too random to compress under the TOAST limit."""
    return secrets.token_urlsafe(6000)


def _placeholders(chaos: ChaosPipeline) -> dict[str, int]:
    """Per `table.column`, rows whose String column holds the placeholder (tables only)."""
    db = chaos.settings.clickhouse_database
    client = clickhouse(chaos.settings, reader=True)
    try:
        columns = client.query(
            "SELECT table, name FROM system.columns WHERE database = {db:String} "
            "AND type LIKE '%String%' AND table IN (SELECT name FROM system.tables WHERE "
            "database = {db:String} AND engine LIKE '%MergeTree%')",
            parameters={"db": db}).result_rows
        found = {}
        for table, column in columns:
            count = client.query(f"SELECT count() FROM {db}.`{table}` "
                                 f"WHERE position(toString(`{column}`), {{p:String}}) > 0",
                                 parameters={"p": PLACEHOLDER}).result_rows[0][0]
            if count:
                found[f"{table}.{column}"] = int(count)
        return found
    finally:
        client.close()


def test_toasted_values_never_reach_clickhouse_as_placeholders(
    chaos: ChaosPipeline, outcome: Outcome
) -> None:
    s = chaos.settings.source_schema
    conn = connect(chaos.settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"select min(id) from {s}.bands")
            band = cur.fetchone()[0]  # type: ignore[index]
            cur.execute(f"select min(id) from {s}.tickets")
            ticket = cur.fetchone()[0]  # type: ignore[index]
            cur.execute(f"update {s}.bands set name = %s where id = %s", (_large_text(), band))
            cur.execute(f"update {s}.tickets set ticketnum = %s where id = %s",
                        (_large_text(), ticket))
            cur.execute(f"insert into {s}.bands (name, fee) values (%s, 100) returning id",
                        (_large_text(),))
            new_band = cur.fetchone()[0]  # type: ignore[index]
            cur.execute(f"select count(*) from {s}.bands where id in (%s, %s) "
                        f"and pg_column_size(name) > 2000", (band, new_band))
            assert cur.fetchone()[0] == 2  # type: ignore[index]

        def update_other_columns() -> None:
            with conn, conn.cursor() as cur:
                cur.execute(f"update {s}.bands set fee = case fee when 200 then 100 else 200 "
                            f"end where id in (%s, %s)", (band, new_band))
                cur.execute(f"update {s}.tickets set price = price + 1 where id = %s",
                            (ticket,))

        under_load(chaos, outcome, update_other_columns, at=0.5, duration=20.0, seed=13)

        try:
            try:
                settle(chaos, outcome)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; placeholders stored in ClickHouse: "
                                     f"{_placeholders(chaos)}") from exc
            assert _placeholders(chaos) == {}
        finally:
            # whatever happened, leave a name every later scenario can reconcile
            with conn, conn.cursor() as cur:
                cur.execute(f"update {s}.bands set name = 'chaos band ' || id "
                            f"where id in (%s, %s)", (band, new_band))
    finally:
        conn.close()
