"""A sink scenario: the test's own topics, database and consumer group, a producer of
the synthetic workload, and the exactness check against its ground truth."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from confluent_kafka import Producer

from contracts.settings import Settings
from tests.integration.stack.kafka_clients import create_topic
from tests.integration.warehouse.warehouse_http import migrated
from tests.support.waiting import wait_until
from warehouse.executor import ClientExecutor
from warehouse.readback import read_aggregates
from warehouse.sink.runner import Sink
from warehouse.synthetic import Workload


def envelope(row: dict[str, object], lsn: int) -> bytes:
    return json.dumps({"before": None, "after": row, "op": "r",
                       "source": {"lsn": lsn, "ts_ms": 1}, "ts_ms": 2}).encode()


@dataclass
class Scenario:
    settings: Settings
    executor: ClientExecutor
    workload: Workload
    produced: int = 0
    invalid: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(cls, base: Settings, unique_name: Callable[[str], str], *,
               batch_rows: int = 5000, seed: int = 41,
               dedup_window_blocks: int | None = None) -> Scenario:
        settings = base.model_copy(update={
            "clickhouse_dedup_window_blocks":
                dedup_window_blocks or base.clickhouse_dedup_window_blocks,
            "clickhouse_database": unique_name("wh"),
            "facts_topic": unique_name("facts"),
            "heartbeat_topic": unique_name("heartbeats"),
            "topic_prefix": unique_name("fest"),
            "dead_letter_topic": unique_name("dlq"),
            "sink_group": unique_name("sink"),
            "sink_batch_rows": batch_rows,
            "sink_batch_seconds": 0.5,
        })
        prefix = f"{settings.topic_prefix}.{settings.source_schema}"
        for topic in (settings.facts_topic, settings.heartbeat_topic,
                      settings.dead_letter_topic, *(f"{prefix}.{t}" for t in
                                                    ("bands", "venues", "performances",
                                                     "people"))):
            create_topic(settings, topic, partitions=3)
        workload = Workload(seed=seed)
        workload.add_dimensions()
        scenario = cls(settings, migrated(settings, settings.clickhouse_database), workload)
        scenario.produce_dimensions()
        return scenario

    def producer(self) -> Producer:
        return Producer({"bootstrap.servers": self.settings.kafka_bootstrap,
                         "linger.ms": 20, "enable.idempotence": True})

    def produce_dimensions(self) -> None:
        producer = self.producer()
        prefix = f"{self.settings.topic_prefix}.{self.settings.source_schema}"
        w = self.workload
        for i, name in w.bands.items():
            producer.produce(f"{prefix}.bands", key=json.dumps({"id": i}),
                             value=envelope({"id": i, "name": name, "fee": 100}, 10))
        for i, (name, capacity) in w.venues.items():
            producer.produce(f"{prefix}.venues", key=json.dumps({"id": i}),
                             value=envelope({"id": i, "name": name, "capacity": capacity}, 10))
        for p in w.performances.values():
            producer.produce(f"{prefix}.performances", key=json.dumps({"id": p.id}),
                             value=envelope({"id": p.id, "performance_start": p.start,
                                             "band_id": p.band_id, "venue_id": p.venue_id}, 10))
        producer.produce(f"{prefix}.people", key=json.dumps({"id": 1}),
                         value=envelope({"id": 1, "name": "already-hashed"}, 10))
        producer.produce(f"{prefix}.people", key=json.dumps({"id": 1}), value=json.dumps({
            "before": {"id": 1}, "after": None, "op": "d", "source": {"lsn": 11, "ts_ms": 1},
            "ts_ms": 2}).encode())
        producer.produce(f"{prefix}.people", key=json.dumps({"id": 1}), value=None)
        producer.flush(30)

    def produce_facts(self, steps: int, *, invalid_every: int = 0, moves: float = 0.03,
                      pause_every: int = 0, pause_seconds: float = 0.0,
                      until: threading.Event | None = None) -> None:
        """Steps of the workload; venue moves re-emit, so deltas outnumber steps.

        A pause every `pause_every` steps spreads the load over time (chaos tests). With
        `until`, production goes on past `steps` until that event is set: a fault test
        whose faults take longer than expected (a loaded machine) still strikes under
        load instead of waiting for rows that will never come."""
        producer = self.producer()
        pace = threading.Event()
        for n in itertools.count():
            if n >= steps and (until is None or until.is_set()):
                break
            for row in self.workload.script(1, moves=moves):
                self._produce(producer, self.settings.facts_topic, row.key, row.to_json())
                self.produced += 1
            if invalid_every and n % invalid_every == 0:
                self._produce(producer, self.settings.facts_topic, b"0",
                              b'{"ticket_id": 1, "sign": 2}')
                self.invalid += 1
            if pause_every and n % pause_every == 0:
                producer.poll(0)
                pace.wait(pause_seconds)
        assert producer.flush(120) == 0

    @staticmethod
    def _produce(producer: Producer, topic: str, key: bytes, value: bytes) -> None:
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                return
            except BufferError:
                producer.poll(0.5)  # the local queue is full: let deliveries drain

    def produce_heartbeats(self, count: int) -> None:
        producer = self.producer()
        for i in range(count):
            producer.produce(self.settings.heartbeat_topic, key=b"hb", value=json.dumps({
                "source_ts_ms": 1_700_000_000_000 + i, "heartbeat_ts": "2023-11-14T22:13:20Z",
                "processed_ts_ms": 1_700_000_000_500 + i}).encode())
        producer.flush(30)

    def exact(self) -> bool:
        found = read_aggregates(self.executor, self.settings.clickhouse_database)
        truth = self.workload.truth()
        return (found.fact_rows == self.produced
                and found.by_performance == truth.by_performance
                and found.by_day_venue_band == truth.by_day_venue_band
                and found.by_minute_venue == truth.by_minute_venue
                and set(found.current_tickets) == set(truth.current))

    def fact_rows(self) -> int:
        ((rows,),) = self.executor.rows(
            f"SELECT count() FROM {self.settings.clickhouse_database}.fact_ticket_sales")
        return int(rows)

    def repeated_deltas(self) -> int:
        """Deltas stored more than once (verify's `dq_repeated_deltas`)."""
        ((count,),) = self.executor.rows(
            f"SELECT count() FROM {self.settings.clickhouse_database}.dq_repeated_deltas")
        return int(count)


@contextlib.contextmanager
def sinks_under_load(sinks: list[Sink], scenario: Scenario, *, steps: int, pause_every: int,
                     pause_seconds: float,
                     settle: Callable[[Scenario], None] | None = None) -> Iterator[None]:
    """The sinks' loops and the producer in threads while the body injects its faults;
    then the producer finishes and, the sinks still running, `settle` judges what they
    stored (by default: every delta exactly once)."""
    stop = threading.Event()
    running = [threading.Thread(target=sink.run, args=(stop,), daemon=True) for sink in sinks]
    producing = threading.Thread(target=scenario.produce_facts, args=(steps,), daemon=True,
                                 kwargs={"moves": 0.01, "pause_every": pause_every,
                                         "pause_seconds": pause_seconds})
    for thread in [*running, producing]:
        thread.start()
    try:
        yield
        producing.join(timeout=120)
        assert not producing.is_alive()
        (settle or wait_exact)(scenario)
    finally:
        stop.set()
        for thread in running:
            thread.join(timeout=60)


def wait_exact(scenario: Scenario) -> None:
    """Every produced delta stored once: aggregates, fact rows and repeats."""
    try:
        wait_until(scenario.exact, deadline_seconds=120, what="exact aggregates")
    except AssertionError:
        raise AssertionError(
            f"not exact: {scenario.fact_rows()} deltas stored of {scenario.produced} "
            f"produced, {scenario.repeated_deltas()} stored more than once") from None
    assert scenario.repeated_deltas() == 0
