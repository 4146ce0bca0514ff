"""Read a facts topic from given offsets up to given offsets, in big validated batches.

Validation is the sink's own (`warehouse.sink.records.decode_fact`), so a replay stores
exactly what the sink stores: a record the sink sent to the dead-letter topic is skipped
here and counted as `skipped`. Reading can stop at one set of offsets and later continue
to higher ones (the top-up before the swap): a partition that reached its stop is paused
and sought back to it, so nothing past a stop is ever handed out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from confluent_kafka import Consumer, KafkaError, TopicPartition

from contracts.settings import Settings
from warehouse.replay.counts import Totals, count_lines
from warehouse.replay.errors import ReplayError
from warehouse.replay.offsets import Offsets
from warehouse.sink.records import RecordError, decode_fact

POLL_MESSAGES = 20_000
POLL_SECONDS = 0.5
IDLE_DEADLINE_SECONDS = 120.0
"""A partition that delivers nothing (not even its end) for this long is an error."""


@dataclass
class Batch:
    lines: list[bytes]
    totals: Totals
    skipped: int = 0


@dataclass
class ReadState:
    next_offsets: Offsets
    totals: Totals = field(default_factory=Totals)
    skipped: int = 0


def consumer_config(settings: Settings) -> dict[str, object]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        # A group of its own that never commits: the replay's position lives in memory.
        "group.id": f"boxoffice-replay-{uuid.uuid4().hex[:12]}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "isolation.level": "read_committed",
        "fetch.max.bytes": 64 * 1024 * 1024,
        "max.partition.fetch.bytes": 16 * 1024 * 1024,
        "queued.max.messages.kbytes": 256 * 1024,
        "fetch.wait.max.ms": 50,
        "client.id": "boxoffice-replay",
    }


class FactsReader:
    """One topic's partitions, read in order from `start`; `read_until` may be repeated."""

    def __init__(self, *, settings: Settings, topic: str, start: Offsets,
                 batch_rows: int = 200_000, min_source_ts_ms: int | None = None) -> None:
        self.topic = topic
        self.batch_rows = batch_rows
        self.min_source_ts_ms = min_source_ts_ms
        self.state = ReadState(next_offsets=dict(start))
        self._consumer = Consumer(consumer_config(settings))
        self._consumer.assign([TopicPartition(topic, p, o) for p, o in start.items()])
        self._paused: set[int] = set()

    def read_until(self, stop: Offsets, on_batch: Callable[[Batch], None],
                   on_progress: Callable[[int], None] = lambda _n: None) -> None:
        """Hand out every valid record before `stop`, in batches of about batch_rows."""
        import time

        nexts = self.state.next_offsets
        active = {p for p in stop if nexts.get(p, 0) < stop[p]}
        resume = [TopicPartition(self.topic, p, nexts[p]) for p in active & self._paused]
        if resume:
            for tp in resume:
                self._consumer.seek(tp)
            self._consumer.resume(resume)
            self._paused -= active
        lines: list[bytes] = []
        skipped = 0
        last_progress = time.monotonic()
        while active:
            messages = self._consumer.consume(POLL_MESSAGES, POLL_SECONDS)
            if messages:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > IDLE_DEADLINE_SECONDS:
                raise ReplayError(
                    f"replay: {self.topic} partitions {sorted(active)} delivered nothing "
                    f"for {IDLE_DEADLINE_SECONDS:.0f} s before reaching {stop}; is Kafka "
                    "up? Nothing was swapped.")
            before = len(lines)
            for message in messages:
                partition = message.partition()
                if partition not in active:
                    continue  # past its stop: sought back when reading resumes
                error = message.error()
                offset = message.offset() or 0
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        nexts[partition] = max(nexts.get(partition, 0), offset)
                    else:
                        raise ReplayError(f"replay: reading {self.topic}[{partition}] "
                                          f"failed: {error}. Nothing was swapped.")
                elif offset >= stop[partition]:
                    nexts[partition] = max(nexts.get(partition, 0), stop[partition])
                else:
                    nexts[partition] = offset + 1
                    try:
                        line = decode_fact(message.key(), message.value())
                    except RecordError:
                        skipped += 1
                        continue
                    if self.min_source_ts_ms is None or self._recent(line):
                        lines.append(line)
                if nexts.get(partition, 0) >= stop[partition]:
                    active.discard(partition)
                    self._pause(partition)
            on_progress(len(lines) - before)
            if len(lines) >= self.batch_rows:
                self._emit(lines, skipped, on_batch)
                lines, skipped = [], 0
        self._emit(lines, skipped, on_batch)

    def _recent(self, line: bytes) -> bool:
        assert self.min_source_ts_ms is not None
        return int(orjson.loads(line)["source_ts_ms"]) >= self.min_source_ts_ms

    def _pause(self, partition: int) -> None:
        if partition not in self._paused:
            self._consumer.pause([TopicPartition(self.topic, partition)])
            self._paused.add(partition)

    def _emit(self, lines: list[bytes], skipped: int,
              on_batch: Callable[[Batch], None]) -> None:
        if not lines and not skipped:
            return
        batch = Batch(lines=lines, totals=count_lines(lines), skipped=skipped)
        self.state.totals.add(batch.totals)
        self.state.skipped += skipped
        on_batch(batch)

    def close(self) -> None:
        self._consumer.close()
