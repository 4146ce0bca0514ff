"""Ground truth: every checked aggregate computed from the ticketing tables.

One REPEATABLE READ, READ ONLY transaction as the verify role, so all checks see one
snapshot; SET LOCAL statement_timeout bounds each query. Tickets are joined to their
purchase and performance exactly as the processors join them (a fact needs both).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from boxoffice.verify.checks import AGGREGATE_TABLES
from boxoffice.verify.compare import Key, Values, sum_by
from boxoffice.verify.errors import VerifyError
from boxoffice.verify.role import ensure_verify_role
from boxoffice.verify.windows import Windows
from connectors.db import connect
from contracts.columns import (
    CARRIED_COLUMNS,
    DEFAULT_PREFIX,
    exact_amount,
    mapped_default,
    table_map,
)
from contracts.settings import Settings

Tables = dict[str, dict[Key, Values]]

_FACTS = """
    from {s}.tickets t
    join {s}.purchases pu on pu.id = {t_purchase_id}
    join {s}.performances pf on pf.id = {t_performance_id}
"""


def _column_sql(column_map: Mapping[str, str], present: set[tuple[str, str]], alias: str,
                table: str, column: str) -> str:
    """A carried column as verify reads it, by the stages' rules (`contracts.columns`):
    the column if the table has it, else the source column the map renames it to, else
    the value the map gives changes without it. Without any, the column itself, which
    fails with a message naming it (see `read_truth`)."""
    source = column_map.get(f"{table}.{column}", column)
    if (table, column) not in present and source.startswith(DEFAULT_PREFIX):
        value = source[len(DEFAULT_PREFIX):]
        if CARRIED_COLUMNS[table][column] in ("int", "money"):
            return str(mapped_default(table, column, table_map(column_map, table)))
        return str(psycopg2.extensions.adapt(value).getquoted().decode())
    if (table, column) in present or source.startswith(DEFAULT_PREFIX):
        source = column
    return f'{alias}."' + source.replace('"', '""') + '"'


_ALIASES = {"tickets": "t", "purchases": "pu", "performances": "pf", "bands": "b",
            "venues": "v"}


def _carried_sql(cur: psycopg2.extensions.cursor, schema: str,
                 column_map: Mapping[str, str]) -> dict[str, str]:
    """{alias_column: SQL} for every carried column, e.g. ``t_price`` -> ``t."price"``."""
    cur.execute("select table_name, column_name from information_schema.columns "
                "where table_schema = %s", (schema,))
    present = {(str(table), str(column)) for table, column in cur.fetchall()}
    return {f"{_ALIASES[table]}_{column}": _column_sql(column_map, present, _ALIASES[table],
                                                       table, column)
            for table, columns in CARRIED_COLUMNS.items() for column in columns}


def _connect(settings: Settings) -> psycopg2.extensions.connection:
    return connect(settings, user=settings.verify_user,
                   password=settings.secret("verify_password"))


def _read(settings: Settings, work: Callable[[psycopg2.extensions.cursor], Tables],
          timeout_seconds: float) -> Tables:
    conn = _connect(settings)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn, conn.cursor() as cur:
            cur.execute("set local statement_timeout = %s", (f"{int(timeout_seconds * 1000)}ms",))
            cur.execute("set local lock_timeout = '2s'")
            return work(cur)
    finally:
        conn.close()


def read_truth(settings: Settings, *, windows: Windows, timeout_seconds: float) -> Tables:
    """Per check name, key -> values from the source; creates the role on first use."""

    def work(cur: psycopg2.extensions.cursor) -> Tables:
        return _queries(cur, settings.source_schema, windows, settings.column_map)

    try:
        try:
            return _read(settings, work, timeout_seconds)
        except (psycopg2.OperationalError, psycopg2.errors.InsufficientPrivilege) as exc:
            if not _role_problem(exc):
                raise
            ensure_verify_role(settings)
            return _read(settings, work, timeout_seconds)
    except psycopg2.errors.QueryCanceled as exc:
        raise VerifyError(
            f"verify: a ground-truth query on Postgres ran past the statement timeout "
            f"({timeout_seconds:.0f} s); raise --statement-timeout or run verify when the "
            "source is less busy") from exc
    except psycopg2.errors.UndefinedColumn as exc:
        raise VerifyError(
            f"verify: the source no longer has a column the pipeline carries "
            f"({_first_line(exc)}); its table's changes cannot be compared until the "
            "column is back or mapped. See docs/source.md, \"When the source schema "
            "changes\".") from exc
    except psycopg2.Error as exc:
        raise VerifyError(f"verify: cannot read the ground truth from Postgres at "
                          f"port {settings.postgres_port}: {str(exc).strip()}; is it "
                          "running (`boxoffice status`)?") from exc


def _first_line(exc: psycopg2.Error) -> str:
    return str(exc).strip().splitlines()[0]


def _role_problem(exc: psycopg2.Error) -> bool:
    if isinstance(exc, psycopg2.errors.InsufficientPrivilege):
        return True
    text = str(exc)
    return "authentication failed" in text or ("does not exist" in text and "role" in text)


def _rows(cur: psycopg2.extensions.cursor, query: str, args: tuple[Any, ...] = (),
          width: int = 1) -> dict[Key, Values]:
    cur.execute(query, args)
    return {tuple(row[:width]): tuple(row[width:]) for row in cur.fetchall()}


def sell_through(truth: Tables) -> dict[Key, Values]:
    """Per performance: its venue, the venue's capacity and the tickets sold, from the
    dimensions and the per-performance sales already read. A venue that does not exist
    counts capacity 0, as ClickHouse's LEFT JOIN fills it."""
    capacity = {key[0]: values[1] for key, values in truth["dim_venues"].items()}
    return {key: (values[2], capacity.get(values[2], 0),
                  int(truth["sales_by_performance"].get(key, (0,))[0]))
            for key, values in truth["dim_performances"].items()}


def _queries(cur: psycopg2.extensions.cursor, schema: str, windows: Windows,
             column_map: Mapping[str, str]) -> Tables:
    s = '"' + schema.replace('"', '""') + '"'
    c = _carried_sql(cur, schema, column_map)
    facts = _FACTS.format(s=s, **c)
    price, start = c["t_price"], c["pf_performance_start"]
    out: Tables = {
        "dim_bands": _rows(cur, f"select id, {c['b_name']} from {s}.bands b"),
        "dim_venues": _rows(cur, f"select id, {c['v_name']}, {c['v_capacity']} "
                                 f"from {s}.venues v"),
        "dim_performances": _rows(
            cur, f"select id, to_char({start} at time zone 'UTC', 'YYYY-MM-DD "
                 f"HH24:MI:SS.US'), {c['pf_band_id']}, {c['pf_venue_id']} "
                 f"from {s}.performances pf"),
        "dim_people": _rows(cur, f"select id from {s}.people"),
        "sales_by_performance": _rows(
            cur, f"select {c['t_performance_id']}, count(*), sum({price}) {facts} "
                 f"group by 1"),
        "sales_by_day_venue_band": _rows(
            cur, f"select (({c['pu_purchase_date']} at time zone 'UTC')::date)::text, "
                 f"{c['pf_venue_id']}, {c['pf_band_id']}, count(*), sum({price}) {facts} "
                 "group by 1, 2, 3", width=3),
        "sales_by_minute_venue_live": _rows(
            cur, f"select to_char(date_trunc('minute', {c['pu_purchase_date']} at time "
                 f"zone 'UTC'), 'YYYY-MM-DD HH24:MI:SS'), {c['pf_venue_id']}, count(*), "
                 f"sum({price}) {facts} where {c['pu_purchase_date']} >= %s group by 1, 2",
                 (windows.live,), width=2),
        "on_sale_rush": _rows(
            cur, f"select to_char(to_timestamp(floor(extract(epoch from "
                 f"{c['pu_purchase_date']}) / 10) * 10) at time zone 'UTC', "
                 f"'YYYY-MM-DD HH24:MI:SS'), count(*), sum({price}) {facts} "
                 f"where {c['pu_purchase_date']} >= %s group by 1", (windows.rush,)),
    }
    day = out["sales_by_day_venue_band"]
    out["sales_by_venue"] = sum_by(day, (1,))
    out["sales_by_band_venue"] = sum_by(day, (1, 2))
    tickets = sum(int(v[0]) for v in out["sales_by_performance"].values())
    revenue = sum(exact_amount(v[1]) for v in out["sales_by_performance"].values())
    out["totals"] = {("all",): (tickets, revenue)}
    out["sell_through"] = sell_through(out)
    out["dq_tickets_without_band_or_venue"] = {}
    out["dq_repeated_deltas"] = {}
    counts: dict[Key, Values] = {
        (name,): (len(out[f"dim_{name}"]), 0, 0)
        for name in ("bands", "venues", "performances", "people")
    }
    counts[("fact_ticket_sales",)] = (tickets, tickets, revenue)
    counts[("ticket_sales_current",)] = (tickets, tickets, revenue)
    for table in AGGREGATE_TABLES:
        counts[(table,)] = (None, tickets, revenue)
    out["dq_table_counts"] = counts
    return out
