"""Over HTTP with the sink's writer: a scripted workload of inserts, updates, deletes and
venue moves leaves every aggregate equal to the Python ground truth, and a batch inserted
three times with its token changes nothing (the negative control shows the check bites)."""

from __future__ import annotations

from collections.abc import Callable

from contracts.settings import Settings
from tests.integration.warehouse.warehouse_http import migrated
from warehouse.readback import Aggregates, read_aggregates
from warehouse.sink.writer import ClickHouseWriter
from warehouse.synthetic import Truth, Workload


def load(settings: Settings, database: str, workload: Workload, *, repeats: int,
         dedup_through_views: bool = True) -> int:
    writer = ClickHouseWriter(settings=settings, database=database, extra_settings={
        "deduplicate_blocks_in_dependent_materialized_views": int(dedup_through_views)})
    for table, lines in workload.dimension_lines().items():
        writer.insert(table, lines, f"{table}:0:0-{len(lines) - 1}")
    deltas = workload.script(4000)
    for start in range(0, len(deltas), 500):
        lines = [row.to_json() for row in deltas[start:start + 500]]
        for _ in range(repeats):
            writer.insert("fact_ticket_sales", lines, f"facts:0:{start}-{start + 499}")
    writer.close()
    return len(deltas)


def exact(found: Aggregates, truth: Truth) -> bool:
    return (found.by_performance == truth.by_performance
            and found.by_day_venue_band == truth.by_day_venue_band
            and found.by_minute_venue == truth.by_minute_venue
            and (found.fact_tickets, found.fact_revenue) == (truth.tickets, truth.revenue)
            and set(found.current_tickets) == set(truth.current))


def test_aggregates_equal_ground_truth_and_retries_change_nothing(
        clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    database = unique_name("wh")
    executor = migrated(clickhouse, database)
    workload = Workload(seed=31)
    workload.add_dimensions()
    deltas = load(clickhouse, database, workload, repeats=3)
    found = read_aggregates(executor, database)
    assert exact(found, workload.truth())
    assert found.fact_rows == deltas
    assert executor.rows(f"SELECT count() FROM {database}.dq_tickets_without_band_or_venue") \
        == [(0,)]


def test_negative_control_duplicates_are_detected(
        clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    database = unique_name("wh")
    executor = migrated(clickhouse, database)
    workload = Workload(seed=32)
    workload.add_dimensions()
    load(clickhouse, database, workload, repeats=3, dedup_through_views=False)
    assert not exact(read_aggregates(executor, database), workload.truth())
