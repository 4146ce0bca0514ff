"""The sink loop against an in-memory broker and in-process ClickHouse: crashes between
insert and commit, with consume sizes that differ on every run, leave every aggregate
exact; without the recovered batch plan the same crashes double rows (negative control)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import TopicPartition

import warehouse.sink.runner as runner_module
from tests.unit.warehouse.warehouse_chdb import migrated_database
from warehouse.executor import ChdbExecutor
from warehouse.readback import read_aggregates
from warehouse.sink.dead_letters import DeadLetters
from warehouse.sink.records import canonical_facts, decode_fact
from warehouse.sink.routes import Route
from warehouse.sink.runner import Sink
from warehouse.sink.writer import ClickHouseWriter
from warehouse.synthetic import Workload

TOPIC = "facts"
ROUTES = {
    "record by record": Route(TOPIC, "fact_ticket_sales", decode_fact),
    "whole runs": Route(TOPIC, "fact_ticket_sales", decode_fact,
                        stored_as_is=canonical_facts),
}
"""The facts route as the sink has it (whole fetched runs checked at once), and without
that shortcut: crashes must leave the same exact aggregates either way."""


@dataclass
class Message:
    _topic: str
    _partition: int
    _offset: int
    _key: bytes | None
    _value: bytes | None

    def topic(self) -> str: return self._topic
    def partition(self) -> int: return self._partition
    def offset(self) -> int: return self._offset
    def key(self) -> bytes | None: return self._key
    def value(self) -> bytes | None: return self._value
    def error(self) -> None: return None


@dataclass
class Broker:
    logs: dict[tuple[str, int], list[Message]] = field(default_factory=dict)
    committed: dict[tuple[str, int], tuple[int, str]] = field(default_factory=dict)

    def produce(self, topic: str, partition: int, key: bytes, value: bytes) -> None:
        log = self.logs.setdefault((topic, partition), [])
        log.append(Message(topic, partition, len(log), key, value))


class FakeConsumer:
    """Enough of confluent_kafka.Consumer for the sink; random fetch sizes."""

    def __init__(self, broker: Broker, rng: random.Random) -> None:
        self.broker = broker
        self.rng = rng
        self.position: dict[tuple[str, int], int] = {}

    def subscribe(self, topics: list[str], **callbacks: Any) -> None:
        for key in self.broker.logs:
            if key[0] in topics:
                self.position[key] = self.broker.committed.get(key, (0, ""))[0]
        self.on_assign: Any = callbacks.get("on_assign")

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        if self.on_assign is not None:  # the group assigns inside the first consume()
            assign, self.on_assign = self.on_assign, None
            assign(self, self.assignment())
        out: list[Message] = []
        for key, start in self.position.items():
            take = self.rng.randint(0, 40)
            chunk = self.broker.logs[key][start:start + take]
            self.position[key] = start + len(chunk)
            out += chunk
        return out

    def committed(self, tps: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition,
                               *self.broker.committed.get((tp.topic, tp.partition),
                                                          (-1001, "")))
                for tp in tps]

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        for tp in offsets:
            self.broker.committed[(tp.topic, tp.partition)] = (tp.offset, tp.metadata or "")

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for t, p in self.position]

    def seek(self, tp: TopicPartition) -> None:
        self.position[(tp.topic, tp.partition)] = max(tp.offset, 0)  # OFFSET_BEGINNING

    def close(self) -> None:
        pass

    def caught_up(self) -> bool:
        return all(self.broker.committed.get(k, (0, ""))[0] >= len(log)
                   for k, log in self.broker.logs.items())


class NoDeadLetters:
    def produce(self, *_a: Any, **_k: Any) -> None: ...
    def poll(self, _t: float) -> None: ...
    def flush(self, _t: float) -> int: return 0


class Crash(Exception):
    """kill -9 right after ClickHouse acknowledged an insert, before the commit."""


class ChdbClient:
    """The slice of a clickhouse-connect client the writer uses, over chdb."""

    def __init__(self, executor: ChdbExecutor, after_insert: Callable[[], None]) -> None:
        self.executor = executor
        self.after_insert = after_insert

    def raw_insert(self, table: str, insert_block: bytes, fmt: str,
                   settings: dict[str, Any]) -> None:
        text = ", ".join(f"{k} = '{v}'" if isinstance(v, str) else f"{k} = {v}"
                         for k, v in settings.items())
        self.executor.command(f"INSERT INTO {table} SETTINGS {text} FORMAT {fmt}\n"
                              + insert_block.decode())
        self.after_insert()

    def close(self) -> None:
        pass


def sink_over_chdb(consumer: Any, database: str, *, route: Route, max_records: int,
                   client: Callable[[], ChdbClient], **options: Any) -> Sink:
    """The sink with its real writer over an in-process ClickHouse client, no dead
    letters, cutting batches at every flush (max_seconds 0)."""
    return Sink(consumer=consumer,
                writer=ClickHouseWriter(settings=None,  # type: ignore[arg-type]
                                        database=database, client_factory=client),
                dead_letters=DeadLetters(producer=NoDeadLetters(), topic="dlq"),
                routes={TOPIC: route}, max_records=max_records, max_seconds=0.0, **options)


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
