"""Read every aggregate back from ClickHouse in plain Python shapes, so a check can
compare them with ground truth computed elsewhere (synthetic workloads, Postgres)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from contracts.columns import exact_amount
from warehouse.executor import Executor


@dataclass
class Aggregates:
    by_performance: dict[int, tuple[int, int | Decimal]]
    by_day_venue_band: dict[tuple[str, int, int], tuple[int, int | Decimal]]
    by_minute_venue: dict[tuple[str, int], tuple[int, int | Decimal]]
    fact_tickets: int
    fact_revenue: int | Decimal
    fact_rows: int
    current_tickets: dict[int, tuple[int, int, int | Decimal]]
    """ticket_id -> (performance_id, venue_id, ticket_price) from ticket_sales_current."""


def _pairs(rows: list[tuple[object, ...]], width: int) -> dict:  # type: ignore[type-arg]
    out = {}
    for row in rows:
        key = tuple(row[:width]) if width > 1 else row[0]
        out[key] = (int(row[width]), exact_amount(row[width + 1]))  # type: ignore[call-overload]
    return out


def read_aggregates(executor: Executor, database: str) -> Aggregates:
    db = database
    perf = executor.rows(
        f"SELECT performance_id, sum(tickets) t, sum(revenue) r "
        f"FROM {db}.agg_sales_by_performance GROUP BY performance_id "
        f"HAVING t != 0 OR r != 0")
    day = executor.rows(
        f"SELECT toString(sale_date), venue_id, band_id, sum(tickets) t, sum(revenue) r "
        f"FROM {db}.agg_sales_by_day_venue_band GROUP BY sale_date, venue_id, band_id "
        f"HAVING t != 0 OR r != 0")
    minute = executor.rows(
        f"SELECT toString(minute), venue_id, sum(tickets) t, sum(revenue) r "
        f"FROM {db}.agg_sales_by_minute_venue GROUP BY minute, venue_id "
        f"HAVING t != 0 OR r != 0")
    ((tickets, revenue, rows),) = executor.rows(
        f"SELECT sum(sign), sum(sign * ticket_price), count() FROM {db}.fact_ticket_sales")
    current = executor.rows(
        f"SELECT ticket_id, performance_id, venue_id, ticket_price "
        f"FROM {db}.ticket_sales_current FINAL")
    return Aggregates(
        by_performance={int(k): v for k, v in _pairs(perf, 1).items()},
        by_day_venue_band={(str(k[0]), int(k[1]), int(k[2])): v
                           for k, v in _pairs(day, 3).items()},
        by_minute_venue={(str(k[0]), int(k[1])): v for k, v in _pairs(minute, 2).items()},
        fact_tickets=int(tickets or 0), fact_revenue=exact_amount(revenue or 0),
        fact_rows=int(rows),
        current_tickets={int(r[0]): (int(r[1]), int(r[2]), exact_amount(r[3]))
                         for r in current},
    )
