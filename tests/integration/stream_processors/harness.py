"""Helpers of the processor integration tests: Debezium-shaped input, facts readback,
worker processes. Real Kafka only; nothing is mocked."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from contracts.changes import Change
from contracts.facts import FactRow
from contracts.settings import REPO_ROOT, Settings
from contracts.topics import cdc_topic, processor_input_topics
from stream_processors.join import content_of
from tests.support.cdc_model import SourceModel, performance, purchase, ticket


def create_cdc_topics(settings: Settings) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    futures = admin.create_topics([NewTopic(t, num_partitions=settings.kafka_partitions,
                                            replication_factor=1)
                                   for t in processor_input_topics(settings)])
    for future in futures.values():
        future.result(30)


def envelope(change: Change) -> bytes:
    return json.dumps({"before": change.before, "after": change.after, "op": change.op,
                       "source": {"lsn": change.lsn, "ts_ms": change.ts_ms, "txId": 1},
                       "ts_ms": change.ts_ms}).encode()


def produce(settings: Settings, records: Iterable[tuple[str, bytes | None, bytes | None]]
            ) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 20})
    for topic, key, value in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(60) == 0


def produce_changes(settings: Settings, changes: Iterable[Change]) -> None:
    produce(settings, ((cdc_topic(settings, c.table), json.dumps({"id": c.key}).encode(),
                        envelope(c)) for c in changes))


def workload(seed: int, *, tickets: int = 1500, purchases: int = 400,
             performances: int = 40, changes: int = 1500) -> SourceModel:
    """A snapshot, then a random stream of inserts, updates and deletes."""
    rnd = random.Random(seed)
    model = SourceModel()
    for i in range(1, performances + 1):
        model.snapshot("performances", performance(i, rnd.randint(1, 30), rnd.randint(1, 7),
                                                   rnd.choice([2021, 2022])))
    for i in range(1, purchases + 1):
        model.snapshot("purchases", purchase(i, rnd.randint(1, 300), rnd.randint(1, 28)))
    for i in range(1, tickets + 1):
        model.snapshot("tickets", ticket(i, rnd.choice([20, 25, 30]),
                                         rnd.randint(1, performances),
                                         rnd.randint(1, purchases + 50)))
    for _ in range(changes):
        roll = rnd.random()
        if roll < 0.6:
            i = rnd.randint(1, tickets + 300)
            if rnd.random() < 0.15:
                model.delete("tickets", i)
            else:
                model.upsert("tickets", ticket(i, rnd.choice([20, 25, 30, 35]),
                                               rnd.randint(1, performances),
                                               rnd.randint(1, purchases + 50)))
        elif roll < 0.9:
            i = rnd.randint(1, purchases + 50)
            if rnd.random() < 0.1:
                model.delete("purchases", i)
            else:
                model.upsert("purchases", purchase(i, rnd.randint(1, 300),
                                                   rnd.randint(1, 28)))
        else:
            i = rnd.randint(1, performances)
            model.upsert("performances", performance(i, rnd.randint(1, 30),
                                                     rnd.randint(1, 7), 2022))
    return model


class TopicReader:
    """Reads a topic from the beginning, accumulating what it has seen."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                                  "group.id": f"reader-{topic}-{time.time_ns()}",
                                  "auto.offset.reset": "earliest",
                                  "enable.auto.commit": False,
                                  "isolation.level": "read_committed"})
        self.consumer.subscribe([topic])
        self.records: list[tuple[bytes | None, bytes]] = []

    def poll_until(self, done: Callable[[list[tuple[bytes | None, bytes]]], bool], *,
                   deadline_s: float = 120.0) -> bool:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            for message in self.consumer.consume(10_000, timeout=0.5):
                value = message.value()
                if message.error() is None and value is not None:
                    self.records.append((message.key(), value))
            if done(self.records):
                return True
        return done(self.records)

    def close(self) -> None:
        self.consumer.close()


def signed_sum(records: Iterable[tuple[bytes | None, bytes]]) -> Counter[Any]:
    total: Counter[Any] = Counter()
    for _, value in records:
        fact = FactRow.from_json(value)
        total[content_of(fact)] += fact.sign
    return +total


def dedup(records: Iterable[tuple[bytes | None, bytes]]) -> list[tuple[bytes | None, bytes]]:
    """Drop byte-identical repeats (what a crash between produce and commit leaves)."""
    seen: set[bytes] = set()
    out = []
    for key, value in records:
        if value not in seen:
            seen.add(value)
            out.append((key, value))
    return out


def worker_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("state_dir", "kafka_port", "faust_web_port", "faust_app_id",
                 "topic_prefix", "facts_topic", "dead_letter_topic", "heartbeat_topic",
                 "metrics_topic", "kafka_partitions", "bind_host", "tools_dir"):
        value = getattr(settings, name)
        if value is not None:
            env[f"BOXOFFICE_{name.upper()}"] = str(value)
    env["BOXOFFICE_PERSON_HASH_SALT"] = settings.secret("person_hash_salt")
    return env


def start_worker(settings: Settings, *, index: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "boxoffice", "processors", "worker", "--index", str(index)],
        cwd=REPO_ROOT, env=worker_env(settings), stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
