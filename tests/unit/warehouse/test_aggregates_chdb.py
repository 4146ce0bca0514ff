"""Scripted inserts, updates, deletes and venue moves: every aggregate equals the ground
truth computed in Python, and retried batches change nothing (in-process ClickHouse)."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import yaml

from contracts.columns import exact_amount
from contracts.facts import FactRow
from contracts.settings import REPO_ROOT
from tests.unit.warehouse.warehouse_chdb import fact_lines, insert_lines, migrated_database
from warehouse.executor import ChdbExecutor
from warehouse.readback import Aggregates, read_aggregates
from warehouse.synthetic import Truth, Workload, iso


@pytest.fixture(scope="module")
def executor() -> ChdbExecutor:
    return ChdbExecutor()


def load(executor: ChdbExecutor, database: str, workload: Workload, steps: int,
         batch: int = 97, *, repeats: int = 1, dedup_through_views: bool = True) -> int:
    deltas = workload.script(steps)
    for table, lines in workload.dimension_lines().items():
        insert_lines(executor, database, table, lines)
    for start in range(0, len(deltas), batch):
        chunk = fact_lines(deltas[start:start + batch])
        token = f"facts:0:{start}-{start + len(chunk) - 1}"
        for _ in range(repeats):
            insert_lines(executor, database, "fact_ticket_sales", chunk, token=token,
                         dedup_through_views=dedup_through_views)
    return len(deltas)


def mismatches(found: Aggregates, truth: Truth) -> list[str]:
    problems = []
    if found.by_performance != truth.by_performance:
        problems.append("per performance")
    if found.by_day_venue_band != truth.by_day_venue_band:
        problems.append("per day x venue x band")
    if found.by_minute_venue != truth.by_minute_venue:
        problems.append("per minute x venue")
    if (found.fact_tickets, found.fact_revenue) != (truth.tickets, truth.revenue):
        problems.append("fact table sums")
    expected = {t: (r.performance_id, r.venue_id, exact_amount(r.ticket_price))
                for t, r in truth.current.items()}
    if found.current_tickets != expected:
        problems.append("current tickets")
    return problems


def test_aggregates_equal_ground_truth(executor: ChdbExecutor) -> None:
    database = migrated_database(executor)
    workload = Workload(seed=11)
    workload.add_dimensions()
    load(executor, database, workload, 3000)
    assert mismatches(read_aggregates(executor, database), workload.truth()) == []


def test_exact_after_merges(executor: ChdbExecutor) -> None:
    database = migrated_database(executor)
    workload = Workload(seed=12)
    workload.add_dimensions()
    load(executor, database, workload, 2000)
    for table in ("fact_ticket_sales", "ticket_sales_current", "agg_sales_by_performance",
                  "agg_sales_by_day_venue_band", "agg_sales_by_minute_venue"):
        executor.command(f"OPTIMIZE TABLE {database}.{table} FINAL")
    assert mismatches(read_aggregates(executor, database), workload.truth()) == []


def test_same_batch_three_times_changes_nothing(executor: ChdbExecutor) -> None:
    database = migrated_database(executor)
    workload = Workload(seed=13)
    workload.add_dimensions()
    deltas = load(executor, database, workload, 1500, repeats=3)
    found = read_aggregates(executor, database)
    assert mismatches(found, workload.truth()) == []
    assert found.fact_rows == deltas
    assert executor.rows(f"SELECT count() FROM {database}.dq_repeated_deltas") == [(0,)]


def test_negative_control_without_dedup_through_views(executor: ChdbExecutor) -> None:
    """The check can fail: views fed twice when their dedup is off."""
    database = migrated_database(executor)
    workload = Workload(seed=14)
    workload.add_dimensions()
    load(executor, database, workload, 800, repeats=3, dedup_through_views=False)
    problems = mismatches(read_aggregates(executor, database), workload.truth())
    assert "per performance" in problems and "per day x venue x band" in problems


def test_negative_control_without_token(executor: ChdbExecutor) -> None:
    """Without deduplication at all the fact table itself shows the duplicates."""
    database = migrated_database(executor)
    workload = Workload(seed=15)
    workload.add_dimensions()
    deltas = fact_lines(workload.script(300))
    for _ in range(2):
        executor.command(
            f"INSERT INTO {database}.fact_ticket_sales SETTINGS insert_deduplicate = 0, "
            f"async_insert = 0, date_time_input_format = 'best_effort' FORMAT JSONEachRow\n"
            + b"\n".join(deltas).decode())
    problems = mismatches(read_aggregates(executor, database), workload.truth())
    assert "fact table sums" in problems
    assert int(executor.rows(f"SELECT count() FROM {database}.dq_repeated_deltas")[0][0]) > 0


def test_views_answer(executor: ChdbExecutor) -> None:
    database = migrated_database(executor)
    workload = Workload(seed=16)
    workload.add_dimensions()
    load(executor, database, workload, 1000)
    truth = workload.truth()
    ((tickets, revenue),) = executor.rows(
        f"SELECT count(), sum(ticket_price) FROM {database}.ticket_sales")
    assert (int(tickets), exact_amount(revenue)) == (truth.tickets, truth.revenue)
    ((names,),) = executor.rows(
        f"SELECT countIf(band_name = '' OR venue_name = '') FROM {database}.ticket_sales")
    assert int(names) == 0
    per_venue = {r[0]: int(r[2]) for r in executor.rows(
        f"SELECT venue_name, capacity, tickets FROM {database}.sales_per_venue")}
    expected: dict[str, int] = {}
    for row in truth.current.values():
        name = workload.venues[row.venue_id][0]
        expected[name] = expected.get(name, 0) + 1
    assert per_venue == expected
    over_time = executor.rows(f"SELECT sum(tickets), sum(revenue) "
                              f"FROM {database}.ticket_sales_over_time")
    assert tuple(map(exact_amount, over_time[0])) == (truth.tickets, truth.revenue)
    ranks = executor.rows(f"SELECT venue_name, max(rank_in_venue), count() "
                          f"FROM {database}.venue_top_bands_by_avg_tickets GROUP BY venue_name")
    assert ranks and all(int(r[1]) <= 8 and int(r[2]) <= 10 for r in ranks)
    prices = executor.rows(f"SELECT min(avg_ticket_price), max(avg_ticket_price) "
                           f"FROM {database}.avg_ticket_price_by_band_venue")
    assert 0 < float(prices[0][0]) <= float(prices[0][1]) < 100
    assert executor.rows(f"SELECT count() FROM {database}.dq_tickets_without_band_or_venue") \
        == [(0,)]
    counts = {r[0]: (int(r[2]), exact_amount(r[3])) for r in executor.rows(
        f"SELECT * FROM {database}.dq_table_counts")}
    for table in ("fact_ticket_sales", "ticket_sales_current", "agg_sales_by_performance",
                  "agg_sales_by_day_venue_band", "agg_sales_by_minute_venue"):
        assert counts[table] == (truth.tickets, truth.revenue), table


def test_unknown_venue_is_reported(executor: ChdbExecutor) -> None:
    database = migrated_database(executor)
    workload = Workload(seed=17)
    workload.add_dimensions()
    load(executor, database, workload, 300)
    perf = next(iter(workload.performances.values()))
    executor.command(
        f"INSERT INTO {database}.dim_venues (id, name, capacity, version, is_deleted, "
        f"source_ts_ms) VALUES ({perf.venue_id}, '', 0, {workload.version + 1}, 1, 0)")
    rows = executor.rows(f"SELECT problem FROM {database}.dq_tickets_without_band_or_venue")
    assert rows and {r[0] for r in rows} == {"venue unknown"}


PIPELINE_HEALTH = REPO_ROOT / "superset" / "dashboards" / "datasets" / \
    "ClickHouse_boxoffice" / "pipeline_health.yaml"


def pipeline_health(executor: ChdbExecutor, database: str) -> dict[str, int]:
    """The live dashboard's 'Pipeline health' dataset, its SQL as Superset runs it, with
    the quality views named in this test's database."""
    sql = yaml.safe_load(PIPELINE_HEALTH.read_text())["sql"]
    sql = re.sub(r"\bFROM (dq_\w+|pipeline_freshness)\b", rf"FROM {database}.\1", sql)
    return {name: int(problems) for _, name, problems, _as_of in executor.rows(sql)}


def test_one_delta_stored_twice_turns_the_repeat_checks_red(executor: ChdbExecutor) -> None:
    """Issue 21's incident by hand: one ticket's +1 delta stored again in a later batch
    under a token of its own, as the sink did after a stall. The whole-history audit
    (`dq_repeated_deltas`, run by `verify`), its last-day form and the live dashboard's
    row all count it. The dashboard's aggregates-versus-facts row goes red as well: the
    summing views took the copy like the fact table, but the current-ticket table keeps
    one row per ticket version."""
    database = migrated_database(executor)
    workload = Workload(seed=18)
    workload.add_dimensions()
    load(executor, database, workload, 500)
    assert set(pipeline_health(executor, database).values()) == {0}
    ((line,),) = executor.rows(
        f"SELECT formatRowNoNewline('JSONEachRow', * EXCEPT ingested_at) "
        f"FROM {database}.fact_ticket_sales WHERE sign = 1 "
        f"ORDER BY abs(ticket_price - 24), ticket_id, version LIMIT 1")
    a_later_batch = "facts:0:900001-900001"  # its own offset range, so its own token
    insert_lines(executor, database, "fact_ticket_sales", [line.encode()],
                 token=a_later_batch)
    doubled = json.loads(line)
    assert executor.rows(f"SELECT ticket_id, version, sign, copies "
                         f"FROM {database}.dq_repeated_deltas") == \
        [(doubled["ticket_id"], doubled["version"], 1, 2)]
    assert executor.rows(f"SELECT count() FROM {database}.dq_repeated_deltas_last_day") \
        == [(1,)]
    health = pipeline_health(executor, database)
    assert health["deltas stored more than once (last 24 h)"] == 1
    assert health["aggregates disagreeing with the facts"] == 1
    assert mismatches(read_aggregates(executor, database), workload.truth()) != []


def test_sell_through_follows_moves_refunds_and_corrections(executor: ChdbExecutor) -> None:
    """Each performance's tickets sold (net of refunds) against the capacity of the venue
    it is in after its moves, as the scripted history leaves them."""
    database = migrated_database(executor)
    workload = Workload(seed=23)
    workload.add_dimensions()
    load(executor, database, workload, 2000)
    truth = workload.truth()
    sold: dict[int, int] = {}
    for row in truth.current.values():
        sold[row.performance_id] = sold.get(row.performance_id, 0) + 1
    expected = {pid: (perf.venue_id, workload.venues[perf.venue_id][1], sold.get(pid, 0))
                for pid, perf in workload.performances.items()}
    assert len({venue for venue, _, _ in expected.values()}) > 1
    found = {int(pid): (int(venue), int(capacity), int(tickets))
             for pid, venue, capacity, tickets in executor.rows(
                 f"SELECT performance_id, venue_id, capacity, tickets_sold "
                 f"FROM {database}.sell_through")}
    assert found == expected
    percents = executor.rows(f"SELECT tickets_sold, capacity, sold_pct "
                             f"FROM {database}.sell_through WHERE tickets_sold > 0")
    assert percents and all(abs(float(pct) - 100 * int(t) / int(c)) <= 0.05 + 1e-9
                            for t, c, pct in percents)  # one decimal


def test_on_sale_rush_counts_the_last_15_minutes_by_ten_seconds(executor: ChdbExecutor
                                                                ) -> None:
    """The scripted history moved to the last 25 minutes: per 10 seconds of purchase time,
    the tickets still sold and their revenue after corrections and refunds; purchases
    older than 15 minutes are left out (none lies within a minute of that edge)."""
    database = migrated_database(executor)
    workload = Workload(seed=29)
    workload.add_dimensions()
    deltas = workload.script(1500)
    now = datetime.now(UTC)
    rng = random.Random(5)
    bought: dict[int, datetime] = {}

    def recent(row: FactRow) -> FactRow:
        ago = rng.uniform(5, 14 * 60) if rng.random() < 0.7 else rng.uniform(16 * 60, 25 * 60)
        at = bought.setdefault(row.ticket_id, now - timedelta(seconds=ago))
        return replace(row, purchase_date=iso(at))

    for table, lines in workload.dimension_lines().items():
        insert_lines(executor, database, table, lines)
    insert_lines(executor, database, "fact_ticket_sales",
                 fact_lines([recent(row) for row in deltas]))
    expected: dict[str, tuple[int, Decimal]] = {}
    for ticket_id, row in workload.truth().current.items():
        at = bought[ticket_id]
        if at < now - timedelta(minutes=15):
            continue
        bucket = f"{at:%Y-%m-%d %H:%M:}{at.second - at.second % 10:02d}"
        tickets, revenue = expected.get(bucket, (0, Decimal(0)))
        expected[bucket] = (tickets + 1, revenue + Decimal(exact_amount(row.ticket_price)))
    found = {str(at): (int(tickets), Decimal(revenue)) for at, tickets, revenue in executor.rows(
        f"SELECT ten_seconds, tickets, revenue FROM {database}.on_sale_rush")}
    assert len(expected) > 20
    assert found == expected
