"""An in-memory broker and the sink wired to it, for the sink's unit tests.

`Broker` keeps partitions' logs and committed offsets (with metadata, where the sink's
batch plan lives); `FakeConsumer` is enough of confluent_kafka.Consumer for the sink
(random fetch sizes, assignment in the first consume(), seek, commit); `ChdbClient` is
the slice of a clickhouse-connect client the writer uses, over in-process chdb.
`sink_over_chdb` builds the real `Sink` and writer over them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import TopicPartition

from warehouse.executor import ChdbExecutor
from warehouse.sink.dead_letters import DeadLetters
from warehouse.sink.routes import Route
from warehouse.sink.runner import Sink
from warehouse.sink.writer import ClickHouseWriter

TOPIC = "facts"


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
