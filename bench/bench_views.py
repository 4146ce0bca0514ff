"""p95 latency of every Superset-facing view on synthetic scale-N history.

Generates the history directly in ClickHouse (INSERT ... SELECT from numbers(), through
the same materialized views as the sink's inserts): scale 1.0 is about 3.5 M tickets over
2,500 performances, 1,400 bands and 9 venues, stamped as stored two days ago (a dashboard
looks at a history loaded earlier; `dq_repeated_deltas_last_day` depends on it). Starts
its own ClickHouse (the stack's component on free ports in a temporary state directory)
unless --reuse-settings-of-env.

    .venv/bin/python bench/bench_views.py --scale 1 --runs 30
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.settings import Settings
from tests.native import NativeProvider
from tests.providers import test_settings
from warehouse.executor import ClientExecutor, connect
from warehouse.migrate import Migration, load_migrations, migrate
from warehouse.users import READER_MAX_EXECUTION_SECONDS
from warehouse.views import View, load_views

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MS = {1.0: 100.0, 10.0: 300.0}

QUERIES = {
    # the row-level dataset (SQL Lab), asked an aggregate question: a scan of every ticket
    "ticket_sales": "SELECT venue_name, band_name, count() AS tickets, sum(ticket_price) "
                    "AS revenue FROM {db}.ticket_sales GROUP BY venue_name, band_name "
                    "ORDER BY revenue DESC LIMIT 100",
    # the same question, and the monthly series of two festivals, as the ACL All-Stars
    # charts ask them of the signed deltas (aggregate projections, migration 0010)
    "ticket_sales_deltas": "SELECT venue_name, band_name, sum(sign) AS tickets, "
                           "sum(signed_price) AS revenue FROM {db}.ticket_sales_deltas "
                           "GROUP BY venue_name, band_name HAVING tickets != 0 "
                           "ORDER BY revenue DESC LIMIT 100",
    "ticket_sales_deltas_by_month": "SELECT toStartOfMonth(toDateTime(purchase_day)) AS m, "
                                    "sum(sign) AS tickets FROM {db}.ticket_sales_deltas "
                                    "WHERE festival_year IN (2010, 2011) GROUP BY m "
                                    "HAVING tickets != 0 ORDER BY m",
    "ticket_sales_over_time": "SELECT * FROM {db}.ticket_sales_over_time",
    "sales_per_venue": "SELECT * FROM {db}.sales_per_venue",
    "venue_top_bands_by_avg_tickets": "SELECT * FROM {db}.venue_top_bands_by_avg_tickets",
    "avg_ticket_price_by_band_venue": "SELECT * FROM {db}.avg_ticket_price_by_band_venue",
    "live_sales_last_hour": "SELECT * FROM {db}.live_sales_last_hour",
    "pipeline_freshness": "SELECT * FROM {db}.pipeline_freshness",
    "dq_tickets_without_band_or_venue":
        "SELECT * FROM {db}.dq_tickets_without_band_or_venue",
    "dq_table_counts": "SELECT * FROM {db}.dq_table_counts",
    "dq_repeated_deltas": "SELECT * FROM {db}.dq_repeated_deltas LIMIT 1000",
    "dq_repeated_deltas_last_day": "SELECT count() FROM {db}.dq_repeated_deltas_last_day",
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
        f"festival_year, sign, version, source_ts_ms, ingested_at) "
        f"SELECT number + 1, intDiv(number, 2) + 1, p, (p * 7919) % {BANDS} + 1, "
        f"p % {VENUES} + 1, hex(cityHash64(intDiv(number, 23))), 15 + (number * 13) % 21, "
        f"{start} - toIntervalSecond((number * 7919) % (180 * 86400)), {start}, "
        f"2002 + p % 20, 1, number + 1, 0, now64(3) - INTERVAL 2 DAY "
        f"FROM (SELECT number, {PERF} AS p FROM numbers({tickets}))")
    return tickets


def settle(executor: ClientExecutor, db: str, deadline_seconds: float = 600) -> float:
    """Wait until background merges of the freshly loaded history are done: a history
    loaded long ago is merged, and measuring while ClickHouse merges millions of rows
    measures the merges. Returns the seconds waited (bounded by the deadline)."""
    began = time.perf_counter()
    while time.perf_counter() - began < deadline_seconds:
        ((merging,),) = executor.rows(
            f"SELECT count() FROM system.merges WHERE database = '{db}'")
        ((mutating,),) = executor.rows(
            f"SELECT count() FROM system.mutations WHERE database = '{db}' AND NOT is_done")
        if merging == 0 and mutating == 0:
            break
        time.sleep(0.5)
    return time.perf_counter() - began


def parts(executor: ClientExecutor, db: str) -> dict[str, int]:
    return {str(table): int(n) for table, n in executor.rows(
        f"SELECT table, count() FROM system.parts WHERE database = '{db}' AND active "
        f"GROUP BY table ORDER BY table")}


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def measure(settings: Settings, dbs: list[str],
            runs: int) -> list[dict[str, dict[str, float]]]:
    """p50/p95 of every view through HTTP as the read-only user (as Superset asks). With
    several databases their queries alternate run by run, so they share the same load."""
    readers = [connect(settings, reader=True, database=db) for db in dbs]
    results: list[dict[str, dict[str, float]]] = [{} for _ in dbs]
    for name, sql in QUERIES.items():
        alive: list[int] = []
        for i, db in enumerate(dbs):
            try:
                readers[i].query(sql.format(db=db))  # warm-up
                alive.append(i)
            except Exception as exc:  # e.g. over the reader's max_execution_time
                error = " ".join(str(exc).split())[:300]
                print(f"{name} ({db}): {error}")
                limit_ms = READER_MAX_EXECUTION_SECONDS * 1000.0  # did not answer in time
                results[i][name] = {"p50_ms": limit_ms, "p95_ms": limit_ms, "rows": 0,
                                    "load_avg_1m": round(os.getloadavg()[0], 2),
                                    "error": error}  # type: ignore[dict-item]
        samples: dict[int, list[float]] = {i: [] for i in alive}
        rows: dict[int, int] = {}
        before = os.getloadavg()[0]
        for _ in range(runs):
            for i in alive:
                t0 = time.perf_counter()
                result = readers[i].query(sql.format(db=dbs[i]))
                samples[i].append((time.perf_counter() - t0) * 1000)
                rows[i] = len(result.result_rows)
        load = round((before + os.getloadavg()[0]) / 2, 2)
        for i in alive:
            results[i][name] = {"p50_ms": statistics.median(samples[i]),
                                "p95_ms": p95(samples[i]), "rows": rows[i],
                                "load_avg_1m": load}
    for reader in readers:
        reader.close()
    return results


def schema_at(commit: str, up_to: int | None) -> tuple[list[Migration], list[View]]:
    """The migrations and views of `commit` (read with git archive), the migrations cut
    at version `up_to` if given. A cut schema gets no views directory: its views may
    read tables of later migrations (commits before warehouse/views kept their views in
    the migrations, so a cut there keeps the views of that version)."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-views-schema-") as tree:
        archive = subprocess.run(["git", "-C", str(root), "archive", commit, "warehouse"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        migrations = load_migrations(Path(tree) / "warehouse" / "migrations")
        views_dir = Path(tree) / "warehouse" / "views"
        views = load_views(views_dir) if views_dir.is_dir() and up_to is None else []
    if up_to is not None:
        migrations = [m for m in migrations if m.version <= up_to]
    return migrations, views


def bench(settings: Settings, scale: float, runs: int, before_commit: str | None = None,
          before_version: int | None = None) -> dict[str, object]:
    """Load, let merges finish, measure. With `before_commit`, a second database gets
    the same history with the schema of that commit (cut at migration `before_version`
    if given), and the two are queried alternately: a before/after ratio under the same
    machine load."""
    db = f"bench_views_{str(scale).replace('.', '_')}"
    dbs = [db] if before_commit is None else [db, f"{db}_before"]
    executor = ClientExecutor(connect(settings))
    load_seconds = 0.0
    for name in dbs:
        executor.command(f"DROP DATABASE IF EXISTS {name}")
        if name == db:
            migrate(executor, name)
        else:
            assert before_commit is not None
            migrations, views = schema_at(before_commit, before_version)
            migrate(executor, name, migrations=migrations, views=views)
        began = time.perf_counter()
        tickets = generate(executor, name, scale)
        load_seconds = time.perf_counter() - began
    settle_seconds = sum(settle(executor, name) for name in dbs)
    report: dict[str, object] = {
        "scale": scale, "tickets": tickets, "load_seconds": load_seconds,
        "settle_seconds": settle_seconds, "runs": runs,
        "target_p95_ms": TARGET_MS.get(scale), "cpus": os.cpu_count(),
        "active_parts": parts(executor, db)}
    measured = measure(settings, dbs, runs)
    report["views"] = measured[0]
    if before_commit is not None:
        report["before_commit"] = before_commit
        report["before_version"] = before_version
        report["views_before"] = measured[1]
    for name in dbs:
        executor.command(f"DROP DATABASE IF EXISTS {name}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--before-commit", default=None,
                        help="also measure, run by run alternately, the same history "
                             "with the schema of this git commit")
    parser.add_argument("--before-version", type=int, default=None,
                        help="with --before-commit: that commit's migrations up to this "
                             "version only")
    args = parser.parse_args()
    if args.before_version is not None and args.before_commit is None:
        parser.error("--before-version needs --before-commit: name the commit whose "
                     "migrations to cut, e.g. --before-commit 779850d --before-version 7")
    with tempfile.TemporaryDirectory(prefix="bench-views-") as state:
        settings = test_settings(Path(state))
        provider = NativeProvider(settings)
        try:
            provider.ensure("clickhouse")
            report = bench(settings, args.scale, args.runs, args.before_commit,
                           args.before_version)
        finally:
            provider.close()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_views_scale{args.scale:g}.json"
    out.write_text(json.dumps(report, indent=2))
    target = report["target_p95_ms"]
    print(f"scale {args.scale:g}: {report['tickets']:,} tickets loaded in "
          f"{report['load_seconds']:.1f}s; {args.runs} runs per view; target p95 < {target} ms")
    before: dict[str, dict[str, float]] = report.get("views_before") or {}  # type: ignore[assignment]
    print(f"{'view':36} {'p50 ms':>8} {'p95 ms':>8} {'rows':>8} {'load':>6}  ok"
          + (f"  {'before p50':>10} {'before p95':>10} {'load':>6}" if before else ""))
    for name, row in report["views"].items():  # type: ignore[attr-defined]
        ok = "yes" if target is None or row["p95_ms"] < target else "NO"
        line = (f"{name:36} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['rows']:8.0f} "
                f"{row['load_avg_1m']:6.2f}  {ok:3}")
        if name in before:
            old = before[name]
            line += f" {old['p50_ms']:10.1f} {old['p95_ms']:10.1f} {old['load_avg_1m']:6.2f}"
        print(line)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
