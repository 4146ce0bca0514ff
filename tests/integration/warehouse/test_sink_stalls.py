"""The sink stalled at each step of its batch protocol, with the real broker and
ClickHouse, while facts keep arriving: each stall outlasts the group's poll interval, so
the sink is expelled while frozen, finds out when it wakes and is given its partitions
back. Afterwards every produced delta is stored exactly once (the chaos suite's
`stall[sink]` scenario, with the stall placed at a chosen step instead of anywhere)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from boxoffice.settings import Settings
from tests.integration.warehouse.sink_scenario import Scenario
from tests.integration.warehouse.warehouse_http import wait_until
from warehouse.sink.app import build_sink
from warehouse.sink.runner import STEPS

pytestmark = pytest.mark.integration

POLL_INTERVAL_MS = 7_000
EXPELLING = {"session.timeout.ms": 6_000, "heartbeat.interval.ms": 1_000,
             "max.poll.interval.ms": POLL_INTERVAL_MS}
"""The broker's shortest session; a loop stalled past the poll interval leaves the group."""
STALL_SECONDS = POLL_INTERVAL_MS / 1000 + 2
BETWEEN_STALLS_SECONDS = 2.0


def test_a_stall_at_each_step_stores_each_delta_once(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str],
        caplog: pytest.LogCaptureFixture) -> None:
    scenario = Scenario.create(clickhouse, unique_name, batch_rows=200, seed=61)
    caplog.set_level(logging.INFO, logger="boxoffice.sink")
    to_stall = list(STEPS)
    last_stall = {"at": time.monotonic()}

    def stall_at(step: str) -> None:
        if to_stall and step == to_stall[0] and \
                time.monotonic() - last_stall["at"] >= BETWEEN_STALLS_SECONDS:
            to_stall.pop(0)
            time.sleep(STALL_SECONDS)  # the fault itself: the loop frozen at this step
            last_stall["at"] = time.monotonic()

    sink = build_sink(scenario.settings, consumer_overrides=EXPELLING, step_hook=stall_at)
    stop = threading.Event()
    running = threading.Thread(target=sink.run, args=(stop,), daemon=True)
    producing = threading.Thread(target=scenario.produce_facts, args=(6_000,), daemon=True,
                                 kwargs={"moves": 0.01, "pause_every": 20,
                                         "pause_seconds": 0.1})
    running.start()
    producing.start()
    try:
        wait_until(lambda: not to_stall, deadline_seconds=180, what="a stall at each step")
        producing.join(timeout=120)
        assert not producing.is_alive()
        wait_until(scenario.exact, deadline_seconds=120, what="exact aggregates")
    finally:
        stop.set()
        running.join(timeout=60)
    assert scenario.fact_rows() == scenario.produced
    database = scenario.settings.clickhouse_database
    assert scenario.executor.rows(
        f"SELECT count() FROM {database}.dq_repeated_deltas") == [(0,)]
    revoked = [r for r in caplog.records if r.getMessage().startswith("revoked ")]
    assert len(revoked) >= len(STEPS), "the stalls did not expel the sink"
