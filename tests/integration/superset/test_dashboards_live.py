"""The live dashboard follows sales: while tickets keep arriving, the numbers its charts'
data API returns move within two refresh intervals (2 x 10 s).

This does NOT run the whole pipeline (Postgres -> Debezium -> processors -> sink): sales
are simulated by writing fact rows and heartbeats into ClickHouse the way the sink does,
a few at a time. What it proves is the dashboard's half: Superset caches nothing and the
live charts read the aggregates ClickHouse updates at insert time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from boxoffice.bi.client import SupersetClient
from contracts.facts import FactRow
from contracts.settings import Settings
from tests.integration.superset.charts_api import as_of_shown, chart_rows, series
from tests.integration.superset.festival_data import Festival, write_facts, write_heartbeat
from tests.support.waiting import wait_until

TWO_REFRESH_INTERVALS_SECONDS = 20.0
ROUNDS = 3
SALES_PER_ROUND = 7


def _live_numbers(admin: SupersetClient) -> tuple[int, int, dict[float, float]]:
    """Tickets today, revenue today, and tickets per minute (epoch ms) of the last hour."""
    (tickets,) = chart_rows(admin, "Tickets today")
    (revenue,) = chart_rows(admin, "Revenue today")
    per_minute = chart_rows(admin, "Tickets per minute (last hour)")
    return (int(tickets["sum_tickets"]), int(revenue["sum_revenue"]),
            series(per_minute, "minute"))


def _minute_ms(row: FactRow) -> float:
    moment = datetime.fromisoformat(row.purchase_date)
    return float(int(moment.timestamp()) // 60 * 60 * 1000)


def test_live_numbers_move_while_sales_arrive(festival: Festival, superset: Settings,
                                              admin: SupersetClient) -> None:
    for _ in range(ROUNDS):
        tickets, revenue, minutes = _live_numbers(admin)
        sales = festival.live_sales(SALES_PER_ROUND, within_minutes=0)
        write_facts(superset, sales)
        expected = (tickets + SALES_PER_ROUND, revenue + sum(int(r.ticket_price) for r in sales),
                    minutes.get(_minute_ms(sales[0]), 0.0) + SALES_PER_ROUND)

        def moved(expected: tuple[int, int, float] = expected,
                  minute: float = _minute_ms(sales[0])) -> tuple[int, int, float] | None:
            now_tickets, now_revenue, now_minutes = _live_numbers(admin)
            now = (now_tickets, now_revenue, now_minutes.get(minute, 0.0))
            return now if now == expected else None

        wait_until(moved, deadline_seconds=TWO_REFRESH_INTERVALS_SECONDS, poll=1.0,
                   what=f"the live charts to count {SALES_PER_ROUND} more tickets")


def test_freshness_drops_when_a_heartbeat_arrives(festival: Festival, superset: Settings,
                                                  admin: SupersetClient) -> None:
    (before,) = chart_rows(admin, "Freshness (seconds)")
    write_heartbeat(superset)

    def fresher() -> bool:
        (now,) = chart_rows(admin, "Freshness (seconds)")
        return bool(now["freshness"] < before["freshness"] and now["freshness"] < 5.0)

    wait_until(fresher, deadline_seconds=TWO_REFRESH_INTERVALS_SECONDS, poll=1.0,
               what="the freshness big number to drop after a heartbeat")


def test_every_live_tile_says_which_source_commit_its_numbers_include(
        festival: Festival, superset: Settings, admin: SupersetClient) -> None:
    """Each tile's query selects its as-of with its numbers: the commit time and WAL
    position of the newest heartbeat that query saw (the figures: the commit time)."""
    write_facts(superset, festival.live_sales(3, within_minutes=0))  # every tile has rows
    lsn = (0x2 << 32) + 0xABC0
    committed_ms = write_heartbeat(superset, lsn=lsn)
    committed = datetime.fromtimestamp(committed_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    words = f"as of source commit {committed} UTC, LSN 2/ABC0"
    expected = ({words}, {committed_ms})  # the figures print the time only
    tiles = [chart["slice_name"] for chart in
             admin.request("GET", "/api/v1/dashboard/live-box-office/charts")["result"]]
    assert len(tiles) >= 8

    def not_yet_showing() -> dict[str, set[object]] | None:
        wrong = {tile: shown for tile in tiles
                 if (shown := as_of_shown(chart_rows(admin, tile))) not in expected}
        return wrong or None

    def all_show() -> bool:
        return not_yet_showing() is None

    wait_until(all_show, deadline_seconds=TWO_REFRESH_INTERVALS_SECONDS, poll=1.0,
               what=f"every live tile to show {words!r} or {committed_ms}",
               explain=lambda: f"tiles showing something else: {not_yet_showing()}")
