"""Ground truth: every checked aggregate computed from the ticketing tables.

One REPEATABLE READ, READ ONLY transaction as the verify role, so all checks see one
snapshot; SET LOCAL statement_timeout bounds each query. Tickets are joined to their
purchase and performance exactly as the processors join them (a fact needs both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from boxoffice.verify.checks import AGGREGATE_TABLES
from boxoffice.verify.compare import Key, Values, sum_by
from boxoffice.verify.errors import VerifyError
from boxoffice.verify.role import ensure_verify_role
from connectors.db import connect
from contracts.settings import Settings

Tables = dict[str, dict[Key, Values]]

_FACTS = """
    from {s}.tickets t
    join {s}.purchases pu on pu.id = t.purchase_id
    join {s}.performances pf on pf.id = t.performance_id
"""


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


def read_truth(settings: Settings, *, window_start: dt.datetime,
               timeout_seconds: float) -> Tables:
    """Per check name, key -> values from the source; creates the role on first use."""

    def work(cur: psycopg2.extensions.cursor) -> Tables:
        return _queries(cur, settings.source_schema, window_start)

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


def _queries(cur: psycopg2.extensions.cursor, schema: str, window_start: dt.datetime
             ) -> Tables:
    s = '"' + schema.replace('"', '""') + '"'
    facts = _FACTS.format(s=s)
    out: Tables = {
        "dim_bands": _rows(cur, f"select id, name from {s}.bands"),
        "dim_venues": _rows(cur, f"select id, name, capacity from {s}.venues"),
        "dim_performances": _rows(
            cur, f"select id, to_char(performance_start at time zone 'UTC', "
                 f"'YYYY-MM-DD HH24:MI:SS.US'), band_id, venue_id from {s}.performances"),
        "dim_people": _rows(cur, f"select id from {s}.people"),
        "sales_by_performance": _rows(
            cur, f"select t.performance_id, count(*), sum(t.price) {facts} "
                 "group by t.performance_id"),
        "sales_by_day_venue_band": _rows(
            cur, f"select ((pu.purchase_date at time zone 'UTC')::date)::text, pf.venue_id, "
                 f"pf.band_id, count(*), sum(t.price) {facts} group by 1, 2, 3", width=3),
        "sales_by_minute_venue_live": _rows(
            cur, f"select to_char(date_trunc('minute', pu.purchase_date at time zone 'UTC'), "
                 f"'YYYY-MM-DD HH24:MI:SS'), pf.venue_id, count(*), sum(t.price) {facts} "
                 "where pu.purchase_date >= %s group by 1, 2", (window_start,), width=2),
    }
    day = out["sales_by_day_venue_band"]
    out["sales_by_venue"] = sum_by(day, (1,))
    out["sales_by_band_venue"] = sum_by(day, (1, 2))
    tickets = sum(int(v[0]) for v in out["sales_by_performance"].values())
    revenue = sum(int(v[1]) for v in out["sales_by_performance"].values())
    out["totals"] = {("all",): (tickets, revenue)}
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
