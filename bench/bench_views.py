"""p95 latency of every Superset-facing view on synthetic scale-N history.

Generates the history directly in ClickHouse (INSERT ... SELECT from numbers(), through
the same materialized views as the sink's inserts): scale 1.0 is about 3.5 M tickets over
2,500 performances, 1,400 bands and 9 venues. Starts its own ClickHouse (the stack's
component on free ports in a temporary state directory) unless --reuse-settings-of-env.

    .venv/bin/python bench/bench_views.py --scale 1 --runs 30
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from boxoffice.settings import Settings
from tests.native import NativeProvider
from tests.providers import test_settings
from warehouse.executor import ClientExecutor, connect
from warehouse.migrate import migrate

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MS = {1.0: 100.0, 10.0: 300.0}

QUERIES = {
    # the row-level dataset, as a Superset chart uses it: aggregated, never fetched whole
    "ticket_sales": "SELECT venue_name, band_name, count() AS tickets, sum(ticket_price) "
                    "AS revenue FROM {db}.ticket_sales GROUP BY venue_name, band_name "
                    "ORDER BY revenue DESC LIMIT 100",
    "ticket_sales_over_time": "SELECT * FROM {db}.ticket_sales_over_time",
    "sales_per_venue": "SELECT * FROM {db}.sales_per_venue",
    "venue_top_bands_by_avg_tickets": "SELECT * FROM {db}.venue_top_bands_by_avg_tickets",
    "avg_ticket_price_by_band_venue": "SELECT * FROM {db}.avg_ticket_price_by_band_venue",
    "live_sales_last_hour": "SELECT * FROM {db}.live_sales_last_hour",
    "pipeline_freshness": "SELECT * FROM {db}.pipeline_freshness",
    "dq_tickets_without_band_or_venue":
        "SELECT * FROM {db}.dq_tickets_without_band_or_venue",
    "dq_table_counts": "SELECT * FROM {db}.dq_table_counts",
}

PERFORMANCES, BANDS, VENUES = 2500, 1400, 9
PERF = f"cityHash64(number) % {PERFORMANCES} + 1"


def generate(executor: ClientExecutor, db: str, scale: float) -> int:
    tickets = int(3_500_000 * scale)
    start = ("toDateTime64('2002-10-04 12:00:00', 6, 'UTC') + toIntervalYear(p % 20) "
             "+ toIntervalDay(p % 3) + toIntervalHour(p % 9)")
    executor.command(f"INSERT INTO {db}.dim_bands (id, name, fee, version, is_deleted, "
                     f"source_ts_ms) SELECT number + 1, concat('Band ', toString(number + 1)), "
                     f"[50, 100, 200][number % 3 + 1], 1, 0, 0 FROM numbers({BANDS})")
    executor.command(f"INSERT INTO {db}.dim_venues (id, name, capacity, version, is_deleted, "
                     f"source_ts_ms) SELECT number + 1, concat('Stage ', toString(number + 1)),"
                     f" 5000 + number * 1000, 1, 0, 0 FROM numbers({VENUES})")
    executor.command(f"INSERT INTO {db}.dim_performances (id, performance_start, band_id, "
                     f"venue_id, version, is_deleted, source_ts_ms) SELECT p, {start}, "
                     f"(p * 7919) % {BANDS} + 1, p % {VENUES} + 1, 1, 0, 0 "
                     f"FROM (SELECT number + 1 AS p FROM numbers({PERFORMANCES}))")
    executor.command(
        f"INSERT INTO {db}.fact_ticket_sales (ticket_id, purchase_id, performance_id, "
        f"band_id, venue_id, person_key, ticket_price, purchase_date, performance_start, "
        f"festival_year, sign, version, source_ts_ms) "
        f"SELECT number + 1, intDiv(number, 2) + 1, p, (p * 7919) % {BANDS} + 1, "
        f"p % {VENUES} + 1, hex(cityHash64(intDiv(number, 23))), 15 + (number * 13) % 21, "
        f"{start} - toIntervalSecond((number * 7919) % (180 * 86400)), {start}, "
        f"2002 + p % 20, 1, number + 1, 0 "
        f"FROM (SELECT number, {PERF} AS p FROM numbers({tickets}))")
    return tickets


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def bench(settings: Settings, scale: float, runs: int) -> dict[str, object]:
    db = f"bench_views_{str(scale).replace('.', '_')}"
    executor = ClientExecutor(connect(settings))
    executor.command(f"DROP DATABASE IF EXISTS {db}")
    migrate(executor, db)
    began = time.perf_counter()
    tickets = generate(executor, db, scale)
    load_seconds = time.perf_counter() - began
    reader = connect(settings, reader=True, database=db)
    views: dict[str, dict[str, float]] = {}
    for name, sql in QUERIES.items():
        query = sql.format(db=db)
        reader.query(query)  # warm-up
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            result = reader.query(query)
            samples.append((time.perf_counter() - t0) * 1000)
        views[name] = {"p50_ms": statistics.median(samples), "p95_ms": p95(samples),
                       "rows": len(result.result_rows)}
    executor.command(f"DROP DATABASE IF EXISTS {db}")
    return {"scale": scale, "tickets": tickets, "load_seconds": load_seconds, "runs": runs,
            "target_p95_ms": TARGET_MS.get(scale), "views": views}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-views-") as state:
        settings = test_settings(Path(state))
        provider = NativeProvider(settings)
        try:
            provider.ensure("clickhouse")
            report = bench(settings, args.scale, args.runs)
        finally:
            provider.close()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_views_scale{args.scale:g}.json"
    out.write_text(json.dumps(report, indent=2))
    target = report["target_p95_ms"]
    print(f"scale {args.scale:g}: {report['tickets']:,} tickets loaded in "
          f"{report['load_seconds']:.1f}s; {args.runs} runs per view; target p95 < {target} ms")
    print(f"{'view':36} {'p50 ms':>8} {'p95 ms':>8} {'rows':>8}  ok")
    for name, row in report["views"].items():  # type: ignore[attr-defined]
        ok = "yes" if target is None or row["p95_ms"] < target else "NO"
        print(f"{name:36} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['rows']:8.0f}  {ok}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
