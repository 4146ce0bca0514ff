"""The per-ticket oracle: every ticket of PostgreSQL stands once in the facts, with its
price, performance, purchase and purchase time, and nothing else stands there.

verify compares aggregates, where a lost ticket and a doubled one of the same
performance and price cancel out; this compares ticket by ticket, so they cannot.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.db import connect
from contracts.columns import exact_amount
from contracts.settings import Settings
from warehouse.executor import connect as clickhouse

Content = tuple[int | Decimal, int, int, str]
"""price, performance id, purchase id, purchase time (UTC, to the microsecond)."""
SHOWN = 5


def source_tickets(settings: Settings) -> dict[int, Content]:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                f"select t.id, t.price, t.performance_id, t.purchase_id, "
                f"to_char(p.purchase_date at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') "
                f"from {settings.source_schema}.tickets t join "
                f"{settings.source_schema}.purchases p on p.id = t.purchase_id")
            return {int(row[0]): (exact_amount(row[1]), int(row[2]), int(row[3]), str(row[4]))
                    for row in cur.fetchall()}
    finally:
        conn.close()


def standing_facts(settings: Settings, database: str) -> list[tuple[int, Content, int]]:
    """(ticket, content, sign sum) for every content whose signs do not sum to zero."""
    client: Any = clickhouse(settings, reader=database == settings.clickhouse_database)
    try:
        rows = client.query(
            f"SELECT ticket_id, ticket_price, performance_id, purchase_id, "
            f"toString(purchase_date), sum(sign) AS n FROM {database}.fact_ticket_sales "
            f"GROUP BY ticket_id, ticket_price, performance_id, purchase_id, purchase_date "
            f"HAVING n != 0").result_rows
    finally:
        client.close()
    return [(int(r[0]), (exact_amount(r[1]), int(r[2]), int(r[3]), str(r[4])), int(r[5]))
            for r in rows]


def ticket_differences(settings: Settings, database: str | None = None) -> list[str]:
    """What differs, ticket by ticket (the first few of each kind, with counts)."""
    truth = source_tickets(settings)
    standing: dict[int, list[tuple[Content, int]]] = {}
    for ticket, content, signs in standing_facts(settings,
                                                 database or settings.clickhouse_database):
        standing.setdefault(ticket, []).append((content, signs))
    lost = sorted(t for t in truth if t not in standing)
    extra = sorted(t for t in standing if t not in truth)
    wrong = sorted(t for t, found in standing.items()
                   if t in truth and found != [(truth[t], 1)])
    problems = []
    for what, tickets in (("lost (in PostgreSQL, not in the facts)", lost),
                          ("left in the facts after they were deleted", extra),
                          ("doubled or with other content", wrong)):
        if tickets:
            shown = [f"{t}: {standing.get(t)} vs {truth.get(t)}" for t in tickets[:SHOWN]]
            problems.append(f"{len(tickets)} tickets {what}: {'; '.join(shown)}")
    return problems
