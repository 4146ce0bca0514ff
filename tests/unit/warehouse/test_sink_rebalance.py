"""The sink expelled from its group (a stall past the session timeout) or rebalanced at
each step of its batch protocol, against an in-memory group and in-process ClickHouse.

The group fake behaves as librdkafka does where it matters here: rebalance callbacks run
inside a `consume()` call, a callback never takes back records an earlier call returned,
a re-assigned partition is fetched again from its committed offset, and a fenced member's
commits fail. Records arrive a few at a time, as live sales do, so the sink's fetch
often returns one record and asks again at once: the interleaving that doubled a ticket
in the chaos suite (a record fetched before the rebalance, taken after it). Every case
must end with each delta stored exactly once.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from tests.support.fake_broker import (
    TOPIC,
    Broker,
    ChdbClient,
    Message,
    sink_over_chdb,
)
from tests.unit.warehouse.warehouse_chdb import migrated_database
from warehouse.executor import ChdbExecutor
from warehouse.readback import read_aggregates
from warehouse.sink.records import canonical_facts, decode_fact
from warehouse.sink.routes import Route
from warehouse.sink.runner import STEPS
from warehouse.synthetic import Workload

ROUTE = Route(TOPIC, "fact_ticket_sales", decode_fact, stored_as_is=canonical_facts)
ARRIVING = 5
"""Records that arrive per partition while a consume() call waits (live traffic)."""
DURING_INSERT = "during insert"
EXPULSIONS = 4
"""Expulsions per scenario."""


@dataclass
class Rebalance:
    """An expulsion: the partitions are lost in the consume() call `lost_at`, given back
    in the call after it; commits fail from now until they are given back."""

    lost_at: int
    lost_served: bool = False


@dataclass
class GroupConsumer:
    """Enough of confluent_kafka.Consumer in a group of one for the sink."""

    broker: Broker
    calls: int = 0
    position: dict[tuple[str, int], int] = field(default_factory=dict)
    arrived: dict[tuple[str, int], int] = field(default_factory=dict)
    callbacks: dict[str, Callable[..., None]] = field(default_factory=dict)
    pending: Rebalance | None = None
    assign_at: int | None = None
    expulsions: int = 0

    def subscribe(self, topics: list[str], **callbacks: Callable[..., None]) -> None:
        self.callbacks = callbacks
        self.topics = topics
        self.assign_at = 1

    # --- the group --------------------------------------------------------------------
    def expel(self, after_calls: int) -> None:
        """A stall past the session timeout: the broker drops this member now; the
        consumer learns it `after_calls` consume() calls from now."""
        if self.pending is None and self.assign_at is None:
            self.pending = Rebalance(lost_at=self.calls + after_calls)

    def _partitions(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for t, p in self.broker.logs if t in self.topics]

    def _serve_callbacks(self) -> None:
        if self.pending is not None and not self.pending.lost_served \
                and self.calls >= self.pending.lost_at:
            lost = [TopicPartition(t, p) for t, p in self.position]
            self.callbacks["on_lost"](self, lost)
            self.position.clear()
            self.pending.lost_served = True
            self.assign_at = self.calls + 1
            self.expulsions += 1
            return
        if self.assign_at is not None and self.calls >= self.assign_at:
            assigned = self._partitions()
            self.callbacks["on_assign"](self, assigned)
            for tp in assigned:
                key = (tp.topic, tp.partition)
                offset = self.broker.committed.get(key, (0, ""))[0]
                self.position[key] = offset
                self.arrived.setdefault(key, 0)
            self.assign_at, self.pending = None, None

    @property
    def fenced(self) -> bool:
        return self.pending is not None or self.assign_at is not None

    # --- the consumer API the sink uses -------------------------------------------------
    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        self.calls += 1
        self._serve_callbacks()
        if timeout > 0:  # waiting: a few more records arrive in every partition
            for key, log in self.broker.logs.items():
                self.arrived[key] = min(len(log), self.arrived.get(key, 0) + ARRIVING)
        out: list[Message] = []
        for key in sorted(self.position):
            start = self.position[key]
            end = min(self.arrived.get(key, 0), start + num_messages - len(out))
            out += self.broker.logs[key][start:end]
            self.position[key] = max(start, end)
        if not out and timeout > 0:
            time.sleep(0.001)  # nothing came: a real consumer would have waited
        return out

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        if self.fenced:
            raise KafkaException(KafkaError(KafkaError.UNKNOWN_MEMBER_ID))
        for tp in offsets:
            self.broker.committed[(tp.topic, tp.partition)] = (tp.offset, tp.metadata or "")

    def committed(self, tps: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition,
                               *self.broker.committed.get((tp.topic, tp.partition),
                                                          (-1001, "")))
                for tp in tps]

    def seek(self, tp: TopicPartition) -> None:
        key = (tp.topic, tp.partition)
        if key not in self.position:
            raise KafkaException(KafkaError(KafkaError._STATE))
        self.position[key] = 0 if tp.offset == OFFSET_BEGINNING else tp.offset

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for t, p in self.position]

    def close(self) -> None:
        pass

    def caught_up(self) -> bool:
        return not self.fenced and all(
            self.broker.committed.get(k, (0, ""))[0] >= len(log)
            for k, log in self.broker.logs.items())


def run_with_rebalances(executor: ChdbExecutor, database: str, broker: Broker, *,
                        step: str, delay: int, every: int) -> GroupConsumer:
    """Run the sink until it has stored everything; at every `every`-th flush, expel it
    at `step` and let it find out `delay` consume() calls later."""
    consumer = GroupConsumer(broker)
    flushes = itertools.count(1)
    armed = {"now": False}

    def at_step(name: str) -> None:
        if name == STEPS[0]:  # a flush begins: expel at one in `every` unfenced flushes
            armed["now"] = (not consumer.fenced and consumer.expulsions < EXPULSIONS
                            and next(flushes) % every == 0)
        if armed["now"] and name == step:
            consumer.expel(delay)

    def during_insert() -> None:
        if armed["now"] and step == DURING_INSERT:
            armed["now"] = False  # once per armed flush
            consumer.expel(delay)
            calls = consumer.calls
            pause = threading.Event()
            for _ in range(100):  # the main thread polls while the insert runs
                if consumer.calls >= calls + delay + 2:
                    break
                pause.wait(0.01)

    sink = sink_over_chdb(consumer, database, route=ROUTE, max_records=40,
                          client=lambda: InsertProbe(executor, during_insert),
                          step_hook=at_step)
    sink.subscribe()
    stop = threading.Event()
    for _ in range(5_000):
        sink.step(stop)
        if consumer.caught_up():
            break
    assert consumer.caught_up(), "the sink did not catch up"
    return consumer


class InsertProbe(ChdbClient):
    """The chdb client with a hook that runs before the insert reaches ClickHouse."""

    def __init__(self, executor: ChdbExecutor, before_insert: Callable[[], None]) -> None:
        super().__init__(executor, after_insert=lambda: None)
        self.before_insert = before_insert

    def raw_insert(self, table: str, insert_block: bytes, fmt: str,
                   settings: dict[str, Any]) -> None:
        self.before_insert()
        super().raw_insert(table, insert_block, fmt, settings)


def produce_workload(seed: int, steps: int = 400) -> tuple[Broker, Workload]:
    workload = Workload(seed=seed)
    workload.add_dimensions()
    broker = Broker()
    for row in workload.script(steps):
        broker.produce(TOPIC, row.ticket_id % 3, row.key, row.to_json())
    return broker, workload


@pytest.fixture(scope="module")
def executor() -> ChdbExecutor:
    return ChdbExecutor()


@pytest.mark.parametrize("delay", [1, 2, 3, 4])
@pytest.mark.parametrize("step", [*STEPS, DURING_INSERT])
def test_expelled_at_each_step_stores_each_delta_once(executor: ChdbExecutor, step: str,
                                                      delay: int) -> None:
    database = migrated_database(executor)
    broker, workload = produce_workload(40 + delay)
    consumer = run_with_rebalances(executor, database, broker, step=step, delay=delay,
                                   every=2)
    assert consumer.expulsions >= EXPULSIONS - 1, "the scenario did not expel the sink"
    found = read_aggregates(executor, database)
    repeated = executor.rows(f"SELECT count() FROM {database}.dq_repeated_deltas")
    assert repeated == [(0,)], f"deltas stored twice: {repeated}"
    assert found.fact_rows == sum(len(log) for log in broker.logs.values())
    assert found.by_performance == workload.truth().by_performance
