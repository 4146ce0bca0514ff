"""One transactional producer per owned join partition (librdkafka, via confluent-kafka).

The transactional id is fixed per join partition (``<app>-join-<p>``), so whichever
worker owns a partition after a rebalance or restart fences the previous owner: its
unfinished transaction is aborted before the new owner reads the state changelog.

librdkafka's ``produce`` costs about a microsecond against tens for a pure-Python client,
which is what makes a worker fast; its blocking calls (init, commit) run in a thread so
the event loop keeps serving Faust.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from confluent_kafka import Consumer, Producer, TopicPartition

from boxoffice.settings import Settings

log = logging.getLogger("boxoffice.processors")

TIMEOUT_S = 60.0
Record = tuple[str, bytes | None, bytes, int | None]
"""(topic, key, value, partition or None for the default partitioner)."""


class PartitionProducers:
    def __init__(self, *, settings: Settings) -> None:
        self._settings = settings
        self._producers: dict[int, Producer] = {}
        self._group = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                                "group.id": settings.faust_app_id}).consumer_group_metadata()

    def transactional_id(self, partition: int) -> str:
        return f"{self._settings.faust_app_id}-join-{partition}"

    async def get(self, partition: int) -> Producer:
        """The partition's producer, started (and the previous owner fenced) on first use."""
        producer = self._producers.get(partition)
        if producer is None:
            producer = Producer({
                "bootstrap.servers": self._settings.kafka_bootstrap,
                "transactional.id": self.transactional_id(partition),
                "linger.ms": 5,
                "batch.size": 1 << 20,
                "compression.type": "lz4",
                "partitioner": "murmur2_random",  # the Java client's: same key, same partition
            })
            await asyncio.to_thread(producer.init_transactions, TIMEOUT_S)
            self._producers[partition] = producer
        return producer

    async def commit(self, partition: int, records: Iterable[Record], *, topic: str,
                     next_offset: int) -> None:
        """Send the records and the consumed offset as one transaction."""
        producer = await self.get(partition)
        producer.begin_transaction()
        try:
            for topic_name, key, value, part in records:
                _produce(producer, topic_name, key, value, part)
            producer.send_offsets_to_transaction(
                [TopicPartition(topic, partition, next_offset)], self._group, TIMEOUT_S)
            await asyncio.to_thread(producer.commit_transaction, TIMEOUT_S)
        except BaseException:
            self._producers.pop(partition, None)  # the next owner (or we) re-init and fence
            try:
                await asyncio.to_thread(producer.abort_transaction, TIMEOUT_S)
            except Exception:  # fenced or broker gone: the transaction times out anyway
                log.warning("join partition %s: abort failed", partition)
            raise

    async def keep_only(self, partitions: set[int]) -> None:
        """Forget the producers of partitions this worker no longer owns."""
        for partition in [p for p in self._producers if p not in partitions]:
            producer = self._producers.pop(partition)
            await asyncio.to_thread(producer.flush, 5.0)

    async def close(self) -> None:
        await self.keep_only(set())


def _produce(producer: Producer, topic: str, key: bytes | None, value: bytes,
             partition: int | None) -> None:
    while True:
        try:
            if partition is None:
                producer.produce(topic, value, key)
            else:
                producer.produce(topic, value, key, partition)
            producer.poll(0)
            return
        except BufferError:  # local queue full: serve delivery reports, then retry
            producer.poll(0.05)


class RouterProducer:
    """The route agent's idempotent producer: at-least-once, flushed before each ack."""

    def __init__(self, *, settings: Settings) -> None:
        self._producer = Producer({
            "bootstrap.servers": settings.kafka_bootstrap,
            "enable.idempotence": True,
            "linger.ms": 5,
            "batch.size": 1 << 20,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",
        })

    def send(self, topic: str, value: bytes, partition: int | None) -> None:
        _produce(self._producer, topic, None, value, partition)

    async def flush(self) -> None:
        """Wait until every record sent so far is acknowledged (before offsets move)."""
        left = await asyncio.to_thread(self._producer.flush, TIMEOUT_S)
        if left:
            raise RuntimeError(f"processors: {left} routed records not acknowledged in "
                               f"{TIMEOUT_S:.0f} s; is Kafka at "
                               "the broker reachable?")
