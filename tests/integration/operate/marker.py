"""The independent freshness measurement: a marker ticket inserted at the source, polled
for in ClickHouse. Its latency is what status's freshness must agree with."""

from __future__ import annotations

import time
from dataclasses import dataclass

from connectors.db import connect as pg_connect
from contracts.settings import Settings
from tests.support.waiting import wait_until
from warehouse.executor import connect as ch_connect

POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Marker:
    ticket_id: int
    committed_at: float
    visible_at: float

    @property
    def latency(self) -> float:
        return self.visible_at - self.committed_at


def insert_marker(settings: Settings) -> tuple[int, float]:
    """A new purchase with one ticket, on existing rows; (ticket id, time after commit)."""
    s = settings.source_schema
    conn = pg_connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"insert into {s}.purchases (purchase_date, person_id) "
                        f"select now(), min(id) from {s}.people returning id")
            (purchase_id,) = cur.fetchone()  # type: ignore[misc]
            cur.execute(f"insert into {s}.tickets (price, performance_id, purchase_id, "
                        f"ticketnum) select 25, min(id), %s, 'marker' from {s}.performances "
                        "returning id", (purchase_id,))
            (ticket_id,) = cur.fetchone()  # type: ignore[misc]
        return int(ticket_id), time.time()
    finally:
        conn.close()


def measure(settings: Settings, *, deadline_seconds: float = 60.0) -> Marker:
    """Insert a marker and poll ClickHouse (reader) until its fact row is visible."""
    client = ch_connect(settings, reader=True)
    db = settings.clickhouse_database
    try:
        ticket_id, committed_at = insert_marker(settings)

        def visible() -> Marker | None:
            rows = client.query(f"SELECT count() FROM {db}.fact_ticket_sales "
                                f"WHERE ticket_id = {ticket_id}").result_rows
            return Marker(ticket_id, committed_at, time.time()) if rows[0][0] else None

        return wait_until(visible, deadline_seconds=deadline_seconds, poll=POLL_SECONDS,
                          what=f"marker ticket {ticket_id} in ClickHouse")
    finally:
        client.close()
