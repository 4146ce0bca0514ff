"""The sink stalled or rebalanced at chosen points, with the real broker and ClickHouse,
while facts keep arriving; afterwards every produced delta is stored exactly once.

- A stall at each step of the batch protocol that outlasts the group's poll interval:
  the sink is expelled while frozen, finds out when it wakes and gets its partitions
  back (the chaos suite's `stall[sink]`, with the stall placed at a chosen step).
- A rebalance that reaches the sink between the two consume() calls of one fetch,
  after the first returned a record: issue 21's interleaving, forced by holding the
  second call until another member has joined the group.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, Message

from contracts.settings import Settings
from tests.integration.warehouse.sink_scenario import Scenario, sinks_under_load
from tests.support.waiting import wait_until
from warehouse.sink.app import build_sink
from warehouse.sink.runner import STEPS, Sink

pytestmark = pytest.mark.integration

POLL_INTERVAL_MS = 7_000
EXPELLING = {"session.timeout.ms": 6_000, "heartbeat.interval.ms": 1_000,
             "max.poll.interval.ms": POLL_INTERVAL_MS}
"""The broker's shortest session; a loop stalled past the poll interval leaves the group."""
STALL_SECONDS = POLL_INTERVAL_MS / 1000 + 2
BETWEEN_STALLS_SECONDS = 2.0


def running_under_load(sink: Sink, scenario: Scenario, *, steps: int, pause_every: int,
                       pause_seconds: float) -> contextlib.AbstractContextManager[None]:
    """One sink and the producer under the body's faults; then every delta stored once."""
    return sinks_under_load([sink], scenario, steps=steps, pause_every=pause_every,
                            pause_seconds=pause_seconds)


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
    with running_under_load(sink, scenario, steps=6_000, pause_every=20,
                            pause_seconds=0.1):
        wait_until(lambda: not to_stall, deadline_seconds=180, what="a stall at each step")
    revoked = [r for r in caplog.records if r.getMessage().startswith("revoked ")]
    assert len(revoked) >= len(STEPS), "the stalls did not expel the sink"


class HeldBetweenCalls:
    """The sink's real consumer, with one difference in timing: when `arm` was called,
    the next consume() that follows a one-record wait (the second call of the sink's
    fetch) first lets `interleave` run, so the rebalance it starts is served in that
    call, after a record of the old assignment was handed out."""

    def __init__(self, consumer: Consumer, interleave: Callable[[], None]) -> None:
        self._consumer = consumer
        self._interleave = interleave
        self._armed = False
        self._after_one = False
        self.held = 0

    def arm(self) -> None:
        self._armed = True

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        if self._armed and self._after_one and timeout == 0:
            self._armed = False
            self.held += 1
            self._interleave()
        messages = self._consumer.consume(num_messages=num_messages, timeout=timeout)
        self._after_one = num_messages == 1 and timeout > 0 and len(messages) == 1
        return messages

    def __getattr__(self, name: str) -> object:
        return getattr(self._consumer, name)


REBALANCES = 3
JOINED_SECONDS = 4.0
"""How long the other member is given to join and the sink's heartbeat to hear of it."""


def test_a_rebalance_between_the_two_calls_of_a_fetch_stores_each_delta_once(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    scenario = Scenario.create(clickhouse, unique_name, batch_rows=200, seed=62)
    sink = build_sink(scenario.settings, consumer_overrides={"heartbeat.interval.ms": 500})
    topics = list(sink.routes)
    members: list[threading.Thread] = []

    def another_member_joins() -> None:
        """A second member that takes its share of the partitions, holds them without
        committing for a moment and leaves: the sink gets them back."""
        joined = threading.Event()

        def member() -> None:
            consumer = Consumer({"bootstrap.servers": scenario.settings.kafka_bootstrap,
                                 "group.id": scenario.settings.sink_group,
                                 "enable.auto.commit": False,
                                 "session.timeout.ms": 6_000})
            consumer.subscribe(topics, on_assign=lambda *_: joined.set())
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not joined.is_set():
                consumer.poll(0.1)
            held_until = time.monotonic() + 2
            while time.monotonic() < held_until:
                consumer.poll(0.1)
            consumer.close()

        thread = threading.Thread(target=member, daemon=True)
        thread.start()
        members.append(thread)
        time.sleep(JOINED_SECONDS)  # the held call: the rebalance is queued meanwhile

    held = HeldBetweenCalls(sink.consumer, another_member_joins)
    sink.consumer = held
    with running_under_load(sink, scenario, steps=8_000, pause_every=3,
                            pause_seconds=0.02):
        for round_ in range(1, REBALANCES + 1):
            wait_until(lambda: scenario.fact_rows() > 0, deadline_seconds=60,
                       what="the sink storing rows")
            held.arm()
            wait_until(lambda r=round_: held.held == r == len(members)  # type: ignore[misc]
                       and not members[-1].is_alive(), deadline_seconds=120,
                       what="the other member to come and go")
    assert held.held == REBALANCES
