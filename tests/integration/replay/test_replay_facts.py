"""replay facts while facts keep arriving: the dashboards answer throughout, the rebuilt
tables are swapped in, and after the live load every aggregate equals the ground truth.

Real Kafka, real ClickHouse and the real sink under the supervisor; the load is the
synthetic workload's signed deltas (sales, corrections, refunds, venue moves) plus
records the sink refuses, which the replay must skip exactly as the sink does."""

from __future__ import annotations

import threading

from boxoffice.replay.control import ProcessControl
from tests.integration.replay.live import DashboardReader
from tests.integration.warehouse.sink_scenario import Scenario
from tests.support.waiting import wait_until
from warehouse.replay import ReplayOptions, replay_facts


def table_uuid(scenario: Scenario, table: str) -> str:
    ((uuid,),) = scenario.executor.rows(
        f"SELECT toString(uuid) FROM system.tables WHERE database = "
        f"'{scenario.settings.clickhouse_database}' AND name = '{table}'")
    return str(uuid)


def test_replay_facts_during_live_load_swaps_in_exact_tables(
        running: tuple[Scenario, ProcessControl]) -> None:
    scenario, sink = running
    scenario.produce_facts(4000, invalid_every=500)
    wait_until(lambda: scenario.fact_rows() == scenario.produced, deadline_seconds=120,
               what="the sink to store the history")
    old_fact_table = table_uuid(scenario, "fact_ticket_sales")

    dashboards = DashboardReader(scenario.settings)
    dashboards.start()
    load = threading.Thread(target=scenario.produce_facts, args=(1500,),
                            kwargs={"pause_every": 50, "pause_seconds": 0.1})
    load.start()
    try:
        report = replay_facts(scenario.settings, sink=sink,
                              options=ReplayOptions(show_progress=False, batch_rows=3000))
    finally:
        load.join()
    wait_until(scenario.exact, deadline_seconds=120,
               what="aggregates equal to the ground truth after the swap")
    dashboards.stop()

    print(report.as_dict())
    assert report.swapped, report.problems
    assert report.problems == []
    assert report.skipped == scenario.invalid  # refused by the sink, skipped by replay
    assert report.read.rows >= 4000
    assert table_uuid(scenario, "fact_ticket_sales") != old_fact_table
    assert sink.running()
    assert dashboards.errors == []
    assert dashboards.answers > 0
    leftovers = scenario.executor.rows(
        "SELECT name FROM system.databases WHERE name LIKE "
        f"'{scenario.settings.clickhouse_database}_shadow_%'")
    assert leftovers == []
