"""The repo's dashboards bundle: it imports idempotently, and every chart's data API returns
the numbers ClickHouse gives for the same question, asked of the facts table itself."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from boxoffice.bi.bootstrap import DASHBOARDS_DIR, bootstrap
from boxoffice.bi.client import SupersetClient
from boxoffice.bi.databases import CLICKHOUSE_DATABASE_UUID
from contracts.settings import Settings
from tests.integration.superset.charts_api import (
    bundle_objects,
    chart_id,
    chart_rows,
    clickhouse_rows,
    series,
)
from tests.integration.superset.festival_data import Festival, write_facts
from tests.integration.superset.sql_lab import execute
from tests.support.waiting import wait_until

EVENTUALLY_SECONDS = 30.0
"""Live charts look at now(): a minute may turn between the two reads, so read again."""
TOP_BANDS = 8


def _agree(chart: Callable[[], Any], truth: Callable[[], Any], what: str) -> Any:
    """Chart and ClickHouse answers equal (read again if a minute turned in between)."""
    answers: dict[str, Any] = {}

    def same() -> bool:
        answers["chart"], answers["clickhouse"] = chart(), truth()
        return bool(answers["chart"] == answers["clickhouse"])

    try:
        wait_until(same, deadline_seconds=EVENTUALLY_SECONDS, what=what)
    except AssertionError as timeout:  # name the last two answers, not the empty dict
        raise AssertionError(f"{timeout}; last answers: {answers}") from None
    return answers["chart"]


def _ms(seconds: int) -> float:
    return float(seconds * 1000)


# --- the bundle ------------------------------------------------------------------------
def test_bundle_imports_twice_with_the_same_objects(festival: Festival, superset: Settings,
                                                    admin: SupersetClient) -> None:
    def inventory() -> dict[str, list[tuple[int, str]]]:
        found = {}
        for resource, name in (("dashboard", "dashboard_title"), ("chart", "slice_name"),
                               ("dataset", "table_name"), ("saved_query", "label")):
            rows = admin.request("GET", f"/api/v1/{resource}/",
                                 params={"q": "(page_size:100)"})["result"]
            found[resource] = sorted((int(r["id"]), str(r[name])) for r in rows)
        return found

    before = inventory()
    bootstrap(superset, dashboards_dir=DASHBOARDS_DIR, progress=lambda _: None)
    assert inventory() == before
    for kind, resource in (("charts", "chart"), ("datasets", "dataset"),
                           ("queries", "saved_query")):
        names = {n for _, n in before[resource]}
        key = {"charts": "slice_name", "datasets": "table_name", "queries": "label"}[kind]
        assert {o[key] for o in bundle_objects(kind)} <= names
    assert {o["database_uuid"] for o in bundle_objects("datasets")} == {CLICKHOUSE_DATABASE_UUID}


def test_dashboards_refresh_and_filter_as_designed(festival: Festival,
                                                   admin: SupersetClient) -> None:
    allstars = admin.request("GET", "/api/v1/dashboard/acl-all-stars")["result"]
    live = admin.request("GET", "/api/v1/dashboard/live-box-office")["result"]
    assert json.loads(live["json_metadata"])["refresh_frequency"] == 10
    filters = json.loads(allstars["json_metadata"])["native_filter_configuration"]
    assert {(f["name"], f["filterType"]) for f in filters} == {
        ("Festival year", "filter_select"), ("Venue", "filter_select"),
        ("Time grain", "filter_timegrain")}
    charts = admin.request("GET", "/api/v1/dashboard/acl-all-stars/charts")["result"]
    assert len(charts) == 4
    charts = admin.request("GET", "/api/v1/dashboard/live-box-office/charts")["result"]
    assert len(charts) == 8


def test_saved_queries_run_in_sql_lab(festival: Festival, superset: Settings,
                                      admin: SupersetClient) -> None:
    saved = admin.request("GET", "/api/v1/saved_query/",
                          params={"q": "(page_size:100)"})["result"]
    ours = {q["label"]: q for q in saved}
    labels = {o["label"] for o in bundle_objects("queries")}
    assert labels <= set(ours)
    for label in sorted(labels):
        detail = admin.request("GET", f"/api/v1/saved_query/{ours[label]['id']}")["result"]
        response = execute(admin, detail["database"]["id"], detail["sql"],
                           superset.clickhouse_database, limit=1000, tab=label)
        assert response.status_code == 200, (label, response.text[:500])
        body = response.json()
        assert body["status"] == "success", (label, body)
        assert body["data"], f"saved query {label!r} returned no rows"


# --- ACL All-Stars ---------------------------------------------------------------------
def test_ticket_sales_over_time_per_month(festival: Festival, superset: Settings,
                                          admin: SupersetClient) -> None:
    found = _agree(
        lambda: {r["purchase_day"]: r["tickets"]
                 for r in chart_rows(admin, "Ticket sales over time")},
        lambda: {_ms(month): float(tickets) for month, tickets in clickhouse_rows(superset, """
            SELECT toUnixTimestamp(toDateTime(toStartOfMonth(purchase_date), 'UTC')),
                   sum(sign) AS tickets
            FROM fact_ticket_sales GROUP BY 1 HAVING tickets != 0""")},
        "tickets per month")
    assert sum(found.values()) >= len(festival.history())
    # bars: a line would join the last month of one festival to the first of the next
    chart = admin.request("GET", f"/api/v1/chart/{chart_id(admin, 'Ticket sales over time')}")
    assert chart["result"]["viz_type"] == "echarts_timeseries_bar"


def test_ticket_sales_per_venue_ranked(festival: Festival, superset: Settings,
                                       admin: SupersetClient) -> None:
    rows = chart_rows(admin, "Ticket sales per venue")
    truth = {venue: float(tickets) for venue, tickets in clickhouse_rows(superset, """
        SELECT v.name, sum(f.sign) AS tickets
        FROM fact_ticket_sales AS f INNER JOIN venues AS v ON v.id = f.venue_id
        GROUP BY v.name HAVING tickets != 0""")}
    assert {r["venue_name"]: r["tickets"] for r in rows} == truth
    ranked = [r["tickets"] for r in rows]
    assert ranked == sorted(ranked, reverse=True), "venues must come ranked, top three first"
    assert len(rows) >= len(festival.venues)


def test_average_ticket_price_per_band_and_venue(festival: Festival, superset: Settings,
                                                 admin: SupersetClient) -> None:
    rows = chart_rows(admin, "Average ticket price per band and venue")
    truth = {(band, venue): (round(price, 9), tickets)
             for band, venue, price, tickets in clickhouse_rows(superset, """
        SELECT b.name, v.name, toFloat64(sum(f.sign * f.ticket_price)) / sum(f.sign),
               sum(f.sign) AS t
        FROM fact_ticket_sales AS f
        INNER JOIN bands AS b ON b.id = f.band_id
        INNER JOIN venues AS v ON v.id = f.venue_id
        GROUP BY b.name, v.name HAVING t > 0""")}
    assert {(r["band_name"], r["venue_name"]): (round(r["avg_ticket_price"], 9), r["tickets"])
            for r in rows} == truth
    prices = [r["avg_ticket_price"] for r in rows]
    assert prices == sorted(prices, reverse=True)


def test_top_eight_bands_per_venue(festival: Festival, superset: Settings,
                                   admin: SupersetClient) -> None:
    rows = chart_rows(admin, "Top eight bands per venue (avg tickets per performance, "
                             "all festivals)")
    per_band: dict[tuple[str, str], list[int]] = defaultdict(list)
    for venue, band, tickets in clickhouse_rows(superset, """
            SELECT v.name, b.name, t.tickets FROM
            (SELECT performance_id, sum(sign) AS tickets FROM fact_ticket_sales
             GROUP BY performance_id HAVING tickets > 0) AS t
            INNER JOIN performances AS p ON p.id = t.performance_id
            INNER JOIN venues AS v ON v.id = p.venue_id
            INNER JOIN bands AS b ON b.id = p.band_id"""):
        per_band[(venue, band)].append(tickets)
    averages = {key: sum(t) / len(t) for key, t in per_band.items()}
    truth = set()
    for (venue, band), average in averages.items():
        rank = 1 + sum(1 for (v, _), other in averages.items() if v == venue and other > average)
        if rank <= TOP_BANDS:
            truth.add((venue, rank, band, round(average, 9), len(per_band[(venue, band)])))
    found = {(r["venue_name"], r["rank_in_venue"], r["band_name"],
              round(r["avg_tickets_per_performance"], 9), r["performances"]) for r in rows}
    assert found == truth
    assert [(r["venue_name"], r["rank_in_venue"]) for r in rows] == sorted(
        (r["venue_name"], r["rank_in_venue"]) for r in rows)


# --- Live box office -------------------------------------------------------------------
LAST_HOUR = "toStartOfMinute(purchase_date) >= toStartOfMinute(now() - INTERVAL 1 HOUR)"


@pytest.mark.parametrize(("chart", "metric", "measure"), [
    ("Tickets per minute (last hour)", "sum_tickets", "sign"),
    ("Revenue per minute (last hour)", "sum_revenue", "sign * ticket_price"),
])
def test_live_per_minute(festival: Festival, superset: Settings, admin: SupersetClient,
                         chart: str, metric: str, measure: str) -> None:
    found = _agree(
        lambda: series(chart_rows(admin, chart), "minute"),
        lambda: {_ms(minute): float(value) for minute, value in clickhouse_rows(superset, f"""
            SELECT toUnixTimestamp(toStartOfMinute(purchase_date)), sum({measure}) AS value
            FROM fact_ticket_sales WHERE {LAST_HOUR}
            GROUP BY 1 HAVING sum(sign) != 0 OR value != 0""")},
        chart)
    assert found, f"{chart} shows nothing although live sales were written"


RUSH = "On-sale rush (tickets per 10 s, last 15 min)"


def test_on_sale_rush_per_ten_seconds_follows_a_sale_and_its_refund(
        festival: Festival, superset: Settings, admin: SupersetClient) -> None:
    def shown() -> dict[float, float]:
        return series(chart_rows(admin, RUSH), "ten_seconds")

    def truth() -> dict[float, float]:
        return {_ms(at): float(tickets) for at, tickets in clickhouse_rows(superset, """
            SELECT toUnixTimestamp(toStartOfInterval(purchase_date, INTERVAL 10 SECOND)),
                   sum(sign) AS tickets
            FROM fact_ticket_sales
            WHERE purchase_date >= toStartOfInterval(now64(6) - INTERVAL 15 MINUTE,
                                                     INTERVAL 10 SECOND)
            GROUP BY 1 HAVING tickets != 0 OR sum(sign * ticket_price) != 0""")}

    _agree(shown, truth, RUSH)
    now = datetime.now(UTC)
    bucket = _ms(int(now.timestamp()) // 10 * 10)
    this_year = min((p for p in festival.performances.values() if p.year == now.year),
                    key=lambda p: p.id)
    sold = [festival.ticket(this_year, now) for _ in range(3)]
    before = shown().get(bucket, 0.0)
    write_facts(superset, sold)
    wait_until(lambda: shown().get(bucket) == before + 3, deadline_seconds=EVENTUALLY_SECONDS,
               what="the rush's current 10 seconds to count the 3 tickets just sold")
    refund = dataclasses.replace(sold[0], sign=-1, version=sold[0].version + 1)
    write_facts(superset, [refund])
    wait_until(lambda: shown().get(bucket) == before + 2, deadline_seconds=EVENTUALLY_SECONDS,
               what="the refund to lower the bar of the 10 seconds the ticket was sold in")


@pytest.mark.parametrize(("chart", "metric", "measure"), [
    ("Tickets today", "sum_tickets", "sign"),
    ("Revenue today", "sum_revenue", "sign * ticket_price"),
])
def test_totals_today(festival: Festival, superset: Settings, admin: SupersetClient,
                      chart: str, metric: str, measure: str) -> None:
    found = _agree(
        lambda: [r[metric] for r in chart_rows(admin, chart)],
        lambda: [value for (value,) in clickhouse_rows(superset, f"""
            SELECT sum({measure}) FROM fact_ticket_sales
            WHERE toDate(purchase_date) = toDate(now(), 'UTC')""")],
        chart)
    assert found[0] > 0


def test_freshness_is_now_minus_the_newest_heartbeat(festival: Festival, superset: Settings,
                                                     admin: SupersetClient) -> None:
    (newest_ms,) = clickhouse_rows(superset, "SELECT max(source_ts_ms) FROM heartbeats")[0]
    before_ms = time.time() * 1000
    (row,) = chart_rows(admin, "Freshness (seconds)")
    after_ms = time.time() * 1000
    # freshness is computed by ClickHouse at query time, between our two clock readings
    assert (before_ms - newest_ms) / 1000 - 1 <= row["freshness"] \
        <= (after_ms - newest_ms) / 1000 + 1


def test_pipeline_health_counts_the_quality_views(festival: Festival, superset: Settings,
                                                  admin: SupersetClient) -> None:
    rows = chart_rows(admin, "Pipeline health (all must be 0)")
    (orphans, repeated, totals), = clickhouse_rows(superset, """
        SELECT (SELECT count() FROM dq_tickets_without_band_or_venue),
               (SELECT count() FROM dq_repeated_deltas_last_day),
               (SELECT uniqExact(toInt64(tickets), toDecimal128(revenue, 2)) FROM dq_table_counts
                WHERE table_name NOT IN ('bands', 'venues', 'performances', 'people'))""")
    assert [(r["check_name"], r["problems"]) for r in rows] == [
        ("tickets without band or venue", orphans),
        ("deltas stored more than once (last 24 h)", repeated),
        ("aggregates disagreeing with the facts", totals - 1),
    ]
    assert [r["problems"] for r in rows] == [0, 0, 0], "the test data is consistent"


SELL_THROUGH = "Sell-through (upcoming performances)"


def test_sell_through_shows_the_next_performances_and_follows_their_sales(
        festival: Festival, superset: Settings, admin: SupersetClient) -> None:
    def shown() -> list[tuple[float, str, str, int, int, float | None]]:
        return sorted((r["performance_start"], r["band_name"], r["venue_name"],
                       r["tickets_sold"], r["capacity"], r["sold_pct"])
                      for r in chart_rows(admin, SELL_THROUGH))

    def upcoming() -> list[tuple[float, str, str, int, int, float | None]]:
        return sorted((float(start) * 1000, band, venue, int(sold), int(capacity),
                       None if pct is None else float(pct))
                      for start, band, venue, sold, capacity, pct in clickhouse_rows(
                          superset, "SELECT toUnixTimestamp(performance_start), band_name, "
                          "venue_name, tickets_sold, capacity, sold_pct FROM sell_through "
                          "WHERE upcoming = 1"))

    rows = shown()
    truth = upcoming()
    assert len(rows) == min(12, len(truth)) > 0, "next year's lineup is upcoming"
    assert [r[0] for r in rows] == [t[0] for t in truth][:len(rows)]  # the soonest first
    assert set(rows) <= set(truth)

    start_ms = rows[0][0]
    soonest = min((p for p in festival.performances.values()
                   if p.start.timestamp() * 1000 == start_ms), key=lambda p: p.id)
    venue, capacity = festival.venues[soonest.venue_id]
    key = (start_ms, festival.bands[soonest.band_id], venue)
    before = next(r[3] for r in truth if r[:3] == key)
    write_facts(superset, [festival.ticket(soonest, datetime.now(UTC)) for _ in range(3)])

    def counted() -> bool:
        return any(r[:3] == key and r[3] == before + 3 and r[4] == capacity and r[5] is not None
                   and abs(r[5] - 100 * (before + 3) / capacity) <= 0.05 + 1e-9
                   for r in shown())

    wait_until(counted, deadline_seconds=EVENTUALLY_SECONDS,
               what="the soonest performance to count the 3 tickets just sold")
