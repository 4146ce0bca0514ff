"""A pause of any length: two sinks share the topics and one is frozen between its plan
commit and its insert, far longer than Kafka lets it keep its partitions. The other sink
takes them, inserts the planned batches (same tokens) and goes on writing many more
blocks than the tables remember tokens for: the window is 20 blocks here, through
`BOXOFFICE_CLICKHOUSE_DEDUP_WINDOW_BLOCKS`, so the test needs no long pause.

When the frozen sink wakes, the deduplication window can no longer protect the batches it
planned; its lease (`warehouse.sink.lease`) must keep it from sending them. The negative
control runs the same with the lease off: the woken sink's copies are stored a second
time and the per-delta check must see them.

The window still has one job: a live sink that redoes its own last flush (a failed
commit, a lease renewal Kafka refused) re-sends those batches a few blocks later. With a
window of 3 that redo alone doubled 54 deltas in one run on a loaded machine; 20 covers a
redo of several flushes and is a tenth of what the other sink writes during the freeze.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from contracts.settings import Settings
from tests.integration.warehouse.sink_scenario import Scenario, sinks_under_load
from tests.integration.warehouse.test_sink_stalls import EXPELLING
from tests.support.waiting import wait_until
from warehouse.sink.app import build_sink
from warehouse.sink.runner import Sink

pytestmark = pytest.mark.integration

WINDOW_BLOCKS = 20
FROZEN_SECONDS = 25.0
"""The poll interval (7 s) for the group to drop the frozen sink, a rebalance, then some
15 s of the other sink writing about six blocks a second to each table: ~90 blocks."""


class Freezer:
    """The step hook of the sink to freeze: once armed, its first flush whose plan holds a
    facts batch stops at the insert step for FROZEN_SECONDS."""

    def __init__(self, facts_topic: str) -> None:
        self.facts_topic = facts_topic
        self.sink: Sink | None = None
        self.armed = threading.Event()
        self.woke = threading.Event()

    def __call__(self, step: str) -> None:
        if step != "insert" or not self.armed.is_set() or self.woke.is_set():
            return
        assert self.sink is not None
        if any(tp.topic == self.facts_topic for tp in self.sink.planned):
            time.sleep(FROZEN_SECONDS)
            self.woke.set()


def run_with_a_frozen_sink(settings: Settings, unique_name: Callable[[str], str], *,
                           lease: bool, seed: int,
                           settle: Callable[[Scenario], None] | None = None) -> Scenario:
    scenario = Scenario.create(settings, unique_name, batch_rows=200, seed=seed,
                               dedup_window_blocks=WINDOW_BLOCKS)
    # The window is sized for batches that wait out sink_batch_seconds (about six blocks
    # a second): the short wait at a partition's end would write up to five times as
    # many, and the redo the window must cover would then fall outside it.
    scenario.settings = scenario.settings.model_copy(update={
        "sink_batch_min_seconds": scenario.settings.sink_batch_seconds})
    freezer = Freezer(scenario.settings.facts_topic)
    frozen = build_sink(scenario.settings, consumer_overrides=EXPELLING, step_hook=freezer,
                        lease=lease)
    freezer.sink = frozen
    other = build_sink(scenario.settings, consumer_overrides=EXPELLING)
    with sinks_under_load([frozen, other], scenario, steps=9_000, pause_every=20,
                          pause_seconds=0.1, settle=settle):
        wait_until(lambda: scenario.fact_rows() > 0 and frozen._owned and other._owned,
                   deadline_seconds=90, what="both sinks owning partitions and storing")
        freezer.armed.set()
        wait_until(freezer.woke.is_set, deadline_seconds=120,
                   what="the frozen sink to wake")
    return scenario


def test_a_sink_frozen_past_the_window_stores_each_delta_once(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="boxoffice.sink")
    run_with_a_frozen_sink(clickhouse, unique_name, lease=True, seed=71)
    held_back = [r.getMessage() for r in caplog.records
                 if "this flush is abandoned" in r.getMessage()]
    assert held_back, "the woken sink never found its lease run out"


def test_negative_control_without_the_lease_the_woken_sink_doubles_batches(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    def doubled(scenario: Scenario) -> None:
        wait_until(lambda: scenario.fact_rows() >= scenario.produced, deadline_seconds=120,
                   what="every delta stored at least once")
        assert scenario.repeated_deltas() > 0, (
            "the woken sink's batches were not stored twice: the test no longer shows "
            "what the lease prevents (is the window still smaller than the pause?)")
        assert scenario.fact_rows() > scenario.produced

    run_with_a_frozen_sink(clickhouse, unique_name, lease=False, seed=72, settle=doubled)
