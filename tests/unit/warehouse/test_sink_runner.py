"""The sink loop against an in-memory broker and in-process ClickHouse: crashes between
insert and commit, with consume sizes that differ on every run, leave every aggregate
exact; without the recovered batch plan the same crashes double rows (negative control)."""

from __future__ import annotations

import random
import threading

import pytest

import warehouse.sink.runner as runner_module
from tests.support.fake_broker import TOPIC, Broker, ChdbClient, FakeConsumer, sink_over_chdb
from tests.unit.warehouse.warehouse_chdb import migrated_database
from warehouse.executor import ChdbExecutor
from warehouse.readback import read_aggregates
from warehouse.sink.records import canonical_facts, decode_fact
from warehouse.sink.routes import Route
from warehouse.synthetic import Workload

ROUTES = {
    "record by record": Route(TOPIC, "fact_ticket_sales", decode_fact),
    "whole runs": Route(TOPIC, "fact_ticket_sales", decode_fact,
                        stored_as_is=canonical_facts),
}
"""The facts route as the sink has it (whole fetched runs checked at once), and without
that shortcut: crashes must leave the same exact aggregates either way."""


class Crash(Exception):
    """kill -9 right after ClickHouse acknowledged an insert, before the commit."""


def run_with_crashes(executor: ChdbExecutor, database: str, broker: Broker, *,
                     crashes: int, seed: int, route: Route = ROUTES["whole runs"]) -> None:
    rng = random.Random(seed)
    inserts = {"n": 0, "crash_at": rng.randint(2, 6)}

    def maybe_crash() -> None:
        inserts["n"] += 1
        if inserts["n"] == inserts["crash_at"]:
            raise Crash

    for attempt in range(crashes + 1):
        inserts["n"], inserts["crash_at"] = 0, (rng.randint(2, 6) if attempt < crashes else -1)
        consumer = FakeConsumer(broker, rng)
        sink = sink_over_chdb(consumer, database, route=route, max_records=50,
                              client=lambda: ChdbClient(executor, maybe_crash))
        sink.subscribe()
        try:
            for _ in range(10_000):
                sink.poll_once()
                sink.flush(threading.Event())
                if consumer.caught_up():
                    break
        except Crash:
            continue
        assert consumer.caught_up()


def produce_workload(seed: int) -> tuple[Broker, Workload]:
    workload = Workload(seed=seed)
    workload.add_dimensions()
    broker = Broker()
    for row in workload.script(1500):
        broker.produce(TOPIC, row.ticket_id % 3, row.key, row.to_json())
    return broker, workload


@pytest.fixture(scope="module")
def executor() -> ChdbExecutor:
    return ChdbExecutor()


@pytest.mark.parametrize("route", ROUTES)
def test_crashes_after_insert_leave_aggregates_exact(executor: ChdbExecutor,
                                                     route: str) -> None:
    database = migrated_database(executor)
    broker, workload = produce_workload(21)
    run_with_crashes(executor, database, broker, crashes=5, seed=1, route=ROUTES[route])
    found, truth = read_aggregates(executor, database), workload.truth()
    assert found.by_performance == truth.by_performance
    assert found.by_day_venue_band == truth.by_day_venue_band
    assert found.by_minute_venue == truth.by_minute_venue
    assert found.fact_rows == sum(len(log) for log in broker.logs.values())


def test_negative_control_without_the_plan(executor: ChdbExecutor,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "decode_plan", lambda _metadata, _committed: [])
    database = migrated_database(executor)
    broker, workload = produce_workload(22)
    run_with_crashes(executor, database, broker, crashes=5, seed=2)
    found = read_aggregates(executor, database)
    assert found.fact_rows > sum(len(log) for log in broker.logs.values())
    assert found.by_performance != workload.truth().by_performance


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("seed", [31, 32, 33])
def test_repeated_crashes_across_a_recovered_plan_stay_exact(executor: ChdbExecutor,
                                                             seed: int, route: str) -> None:
    """Crashes while a recovered plan is only partly flushed: every commit must carry
    the plan's remaining ends, or the next restart cuts inserted records anew."""
    database = migrated_database(executor)
    broker, workload = produce_workload(seed)
    run_with_crashes(executor, database, broker, crashes=8, seed=seed, route=ROUTES[route])
    found = read_aggregates(executor, database)
    assert found.by_performance == workload.truth().by_performance
    assert found.fact_rows == sum(len(log) for log in broker.logs.values())
