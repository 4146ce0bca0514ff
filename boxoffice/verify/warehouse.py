"""The same checks read from ClickHouse as the read-only reader.

Aggregates are read with sum() GROUP BY key (SummingMergeTree merges are eventual) and
zero rows dropped; dimensions as of their latest version, deleted ones left out
(argMax by version, so no FINAL and no dependence on merges).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from boxoffice.verify.checks import AGGREGATE_TABLES
from boxoffice.verify.compare import Key, Values
from boxoffice.verify.errors import VerifyError
from boxoffice.verify.windows import Windows
from contracts.settings import Settings

Tables = dict[str, dict[Key, Values]]
DQ_ROW_LIMIT = 1000
"""A must-be-empty view is read up to this many rows: enough to report, cheap if huge."""


def reader_client(settings: Settings, *, timeout_seconds: float, reader: bool = True) -> Any:
    """clickhouse-connect client as settings.clickhouse_reader_user (or, for a database
    the reader has no grant on, such as a replay's shadow, as the writer)."""
    from warehouse.executor import connect

    try:
        return connect(settings, reader=reader, connect_timeout=min(timeout_seconds, 5),
                       send_receive_timeout=timeout_seconds, autogenerate_session_id=False,
                       compress=False)
    except Exception as exc:
        raise VerifyError(f"verify: cannot connect to ClickHouse at "
                          f"{settings.clickhouse_url} as {settings.clickhouse_reader_user}: "
                          f"{_short(exc)}; is it running (`boxoffice status`)?") from exc


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _rows(client: Any, query: str, width: int = 1) -> dict[Key, Values]:
    result = client.query(query).result_rows
    return {tuple(_plain(v) for v in row[:width]): tuple(_plain(v) for v in row[width:])
            for row in result}


def _plain(value: Any) -> Any:
    """ClickHouse integers may come back unsigned/wide: make them plain ints."""
    if isinstance(value, bool):
        return int(value)
    return value


def read_warehouse(settings: Settings, *, database: str | None = None,
                   windows: Windows, timeout_seconds: float = 60.0,
                   reader: bool = True) -> Tables:
    db = database or settings.clickhouse_database
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", db):
        raise VerifyError(f"verify: database name {db!r} is not a plain identifier")
    client = reader_client(settings, timeout_seconds=timeout_seconds, reader=reader)
    try:
        return _queries(client, db, windows)
    except VerifyError:
        raise
    except Exception as exc:
        raise VerifyError(f"verify: reading database {db} from ClickHouse failed: "
                          f"{_short(exc)}; are the warehouse migrations applied "
                          "(`boxoffice up`)?") from exc
    finally:
        client.close()


def _dimension(client: Any, db: str, table: str, columns: list[str]) -> dict[Key, Values]:
    """id -> the columns (expressions) of each id's latest version, unless it is deleted."""
    picks = "".join(f", c{i}" for i in range(len(columns)))
    latest = "".join(f", argMax({c}, version) AS c{i}" for i, c in enumerate(columns))
    return _rows(client, f"SELECT id{picks} FROM (SELECT id{latest}, "
                         f"argMax(is_deleted, version) AS deleted FROM {db}.{table} "
                         f"GROUP BY id HAVING deleted = 0)")


def _sales(db: str, table: str, keys: list[str], where: str = "") -> str:
    group = ", ".join(keys)
    return (f"SELECT {group}, sum(tickets) AS t, sum(revenue) AS r FROM {db}.{table} "
            f"{where} GROUP BY {group} HAVING t != 0 OR r != 0")


def _queries(client: Any, db: str, windows: Windows) -> Tables:
    window, rush = (w.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
                    for w in (windows.live, windows.rush))
    out: Tables = {
        "dim_bands": _dimension(client, db, "dim_bands", ["name"]),
        "dim_venues": _dimension(client, db, "dim_venues", ["name", "capacity"]),
        "dim_performances": _dimension(
            client, db, "dim_performances",
            ["toString(performance_start)", "band_id", "venue_id"]),
        "dim_people": _dimension(client, db, "dim_people", []),
        "sales_by_performance": _rows(client, _sales(
            db, "agg_sales_by_performance", ["performance_id"])),
        "sales_by_day_venue_band": _rows(client, _sales(
            db, "agg_sales_by_day_venue_band",
            ["toString(sale_date)", "venue_id", "band_id"]), width=3),
        "sales_by_minute_venue_live": _rows(client, _sales(
            db, "agg_sales_by_minute_venue", ["toString(minute)", "venue_id"],
            f"WHERE minute >= toDateTime('{window}', 'UTC')"), width=2),
        "on_sale_rush": _rows(client, f"SELECT toString(ten_seconds), tickets, revenue "
                                      f"FROM {db}.on_sale_rush "
                                      f"WHERE ten_seconds >= toDateTime('{rush}', 'UTC')"),
        "sales_by_venue": _rows(client, _sales(
            db, "agg_sales_by_day_venue_band", ["venue_id"])),
        "sales_by_band_venue": _rows(client, _sales(
            db, "agg_sales_by_day_venue_band", ["venue_id", "band_id"]), width=2),
        "totals": _rows(client, f"SELECT 'all', sum(sign), sum(sign * ticket_price) "
                                f"FROM {db}.fact_ticket_sales"),
        "sell_through": _rows(client, f"SELECT performance_id, venue_id, capacity, "
                                      f"tickets_sold FROM {db}.sell_through"),
        "dq_tickets_without_band_or_venue": _rows(
            client, f"SELECT performance_id, tickets, revenue, problem "
                    f"FROM {db}.dq_tickets_without_band_or_venue LIMIT {DQ_ROW_LIMIT}"),
        "dq_repeated_deltas": _rows(
            client, f"SELECT ticket_id, version, sign, copies FROM {db}.dq_repeated_deltas "
                    f"LIMIT {DQ_ROW_LIMIT}", width=3),
    }
    counts = _rows(client, f"SELECT table_name, current_rows, tickets, revenue "
                           f"FROM {db}.dq_table_counts")
    out["dq_table_counts"] = {
        key: ((None, *values[1:]) if key[0] in AGGREGATE_TABLES else values)
        for key, values in counts.items()
    }
    return out
