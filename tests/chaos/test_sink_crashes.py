"""Crashes under load: the sink killed with SIGKILL five times mid-stream, and ClickHouse
stopped while the sink inserts; afterwards every aggregate equals the ground truth and
the fact table holds each produced delta exactly once."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from boxoffice.stack.components import stack_components
from boxoffice.stack.supervisor import Supervisor
from contracts.settings import REPO_ROOT, Settings
from tests.integration.warehouse.sink_scenario import Scenario
from tests.integration.warehouse.warehouse_http import sink_env, start_sink
from tests.support.waiting import wait_until
from warehouse.sink.metrics import read_metrics


@dataclass
class Load:
    """Facts produced on a thread: at least `steps`, and on until `stop()`, so every fault
    lands under load however slowly the machine runs the test: with a fixed count, a
    loaded machine can finish producing before the fifth kill, and a sink that has
    caught up stores nothing more for the test to wait for."""

    thread: threading.Thread
    done: threading.Event

    def stop(self) -> None:
        self.done.set()


def load_in_background(scenario: Scenario, steps: int) -> Load:
    """About 1,000 steps a second, few venue moves."""
    done = threading.Event()
    thread = threading.Thread(target=scenario.produce_facts, args=(steps,), daemon=True,
                              kwargs={"moves": 0.002, "pause_every": 100,
                                      "pause_seconds": 0.1, "until": done})
    thread.start()
    return Load(thread, done)


def finish(scenario: Scenario, load: Load, log: Path,
           settle: Callable[[Scenario], None] | None = None) -> None:
    """Stop the load, run a sink until `settle` (default: exact, each delta once)."""
    load.stop()
    producer = load.thread
    producer.join(timeout=300)
    assert not producer.is_alive()
    sink = start_sink(scenario.settings, log)
    try:
        (settle or exact)(scenario)
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=60)


def exact(scenario: Scenario) -> None:
    wait_until(scenario.exact, deadline_seconds=300, what="exact aggregates")
    assert scenario.fact_rows() == scenario.produced


def doubled(scenario: Scenario) -> None:
    """The negative controls' verdict: every delta stored, some of them twice."""
    wait_until(lambda: scenario.fact_rows() >= scenario.produced, deadline_seconds=300,
               what="every delta stored at least once")
    assert scenario.repeated_deltas() > 0, "no delta stored twice: the control cannot fail"
    assert not scenario.exact()


def test_kill_9_five_times_under_load(kafka: Settings, clickhouse: Settings,
                                      unique_name: Callable[[str], str],
                                      tmp_path: Path) -> None:
    scenario = Scenario.create(clickhouse, unique_name, batch_rows=3000, seed=51)
    load = load_in_background(scenario, 10_000)
    rng = random.Random(5)
    log = tmp_path / "sink.log"
    for _ in range(5):
        before = scenario.fact_rows()
        sink = start_sink(scenario.settings, log)
        wait_until(lambda b=before: scenario.fact_rows() > b, deadline_seconds=120,  # type: ignore[misc]
                   what="the sink storing rows", poll=0.05)
        threading.Event().wait(rng.uniform(0.0, 0.8))  # land the kill anywhere in a batch
        sink.send_signal(signal.SIGKILL)
        sink.wait(timeout=30)
    finish(scenario, load, log)


def test_clickhouse_down_under_load(kafka: Settings, clickhouse: Settings,
                                    unique_name: Callable[[str], str],
                                    tmp_path: Path) -> None:
    scenario = Scenario.create(clickhouse, unique_name, batch_rows=3000, seed=52)
    load = load_in_background(scenario, 10_000)
    supervisor = Supervisor(settings=clickhouse, components=stack_components(clickhouse))
    component = supervisor.component("clickhouse")
    log = tmp_path / "sink.log"
    sink = start_sink(scenario.settings, log)
    try:
        wait_until(lambda: scenario.fact_rows() > 0, deadline_seconds=120,
                   what="the sink storing rows", poll=0.05)
        retries_before = (read_metrics(scenario.settings) or {}).get("insert_retries_total", 0)
        supervisor.stop(component)
        # Down "for a while": until the sink has retried five times with backoff (~15 s).
        wait_until(lambda: (read_metrics(scenario.settings) or {}).get(
            "insert_retries_total", 0) >= retries_before + 5, deadline_seconds=120,
            what="the sink retrying while ClickHouse is down")
        assert sink.poll() is None, "the sink must wait for ClickHouse, not exit"
        supervisor.up(["clickhouse"], progress=lambda line: print(f"[stack] {line}"))
        wait_until(lambda: (read_metrics(scenario.settings) or {}).get("clickhouse_up"),
                   deadline_seconds=120, what="the sink inserting again")
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=60)
    finish(scenario, load, log)


KILLS_AT_COMMIT = 3
DIE_AT_COMMIT = 2
"""The dying sink's second flush: past the backlog its start found, so its batches are
cut by time (a few hundred records of a partition, not `batch_rows`)."""


def start_dying_sink(settings: Settings, log: Path, *, plan: bool) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    argv = [sys.executable, "-m", "tests.chaos.dying_sink", str(DIE_AT_COMMIT),
            *([] if plan else ["--without-plan"])]
    return subprocess.Popen(argv, env=sink_env(settings), cwd=REPO_ROOT, stdout=handle,
                            stderr=subprocess.STDOUT)


@pytest.mark.parametrize("plan", [True, False],
                         ids=["with-the-plan", "negative-control-without-the-plan"])
def test_killed_after_its_insert_before_its_offset_commit(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str],
        tmp_path: Path, plan: bool) -> None:
    """Three sinks in turn SIGKILL themselves right after a flush's inserts. With the plan
    the next one cuts the same batches and ClickHouse drops them by token; without it,
    the next one cuts the records anew (by size, from a backlog) and stores them twice:
    the per-delta check must see that, or it could not see the fault it guards."""
    scenario = Scenario.create(clickhouse, unique_name, batch_rows=3000,
                               seed=54 if plan else 55)
    load = load_in_background(scenario, 8_000)
    log = tmp_path / "sink.log"
    for _ in range(KILLS_AT_COMMIT):
        before = scenario.fact_rows()
        sink = start_dying_sink(scenario.settings, log, plan=plan)
        assert sink.wait(timeout=180) == -signal.SIGKILL, log.read_text()[-2000:]
        assert scenario.fact_rows() > before, "the sink died before inserting anything"
    finish(scenario, load, log, settle=exact if plan else doubled)
