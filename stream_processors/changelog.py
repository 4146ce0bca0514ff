"""The join state's changelog: a compacted topic, one partition per join partition.

Every stored entry of a `JoinState` ("t:42" -> [lsn, version, ...]) is written here in
the same Kafka transaction as the deltas it caused and the join-topic offsets it
consumed, so the state, the facts and the consumer position move together or not at
all. Recovery reads one partition from the beginning up to its last stable offset with
``isolation.level=read_committed``, so aborted (crashed) batches are never seen.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

from contracts.settings import Settings
from contracts.topics import changelog_topic, topic_configs
from stream_processors.failures import ProcessorsError


def ensure_changelog(settings: Settings, *, timeout: float = 30.0) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    name = changelog_topic(settings)
    if name in admin.list_topics(timeout=timeout).topics:
        return
    topic = NewTopic(name, num_partitions=settings.kafka_partitions,
                     replication_factor=settings.kafka_replication_factor,
                     config=topic_configs(settings)[name])
    try:
        admin.create_topics([topic], request_timeout=timeout)[name].result(timeout)
    except Exception as exc:
        if "TOPIC_ALREADY_EXISTS" not in str(exc):
            raise ProcessorsError(f"processors: cannot create topic {name}: {exc}") from exc


def encode_entry(key: str, entry: tuple[Any, ...]) -> tuple[bytes, bytes]:
    return key.encode(), orjson.dumps(entry)


def read_partition(settings: Settings, partition: int, *, timeout: float = 120.0
                   ) -> Iterator[tuple[str, list[Any]]]:
    """Every committed (key, entry) of one changelog partition, oldest first."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": f"{settings.faust_app_id}-recovery",
                         "enable.auto.commit": False,
                         "isolation.level": "read_committed",
                         "enable.partition.eof": True})
    try:
        tp = TopicPartition(changelog_topic(settings), partition, OFFSET_BEGINNING)
        _, high = consumer.get_watermark_offsets(tp, timeout=timeout)
        if high == 0:
            return
        consumer.assign([tp])
        done = False
        deadline = time.monotonic() + timeout
        while not done:
            messages = consumer.consume(10_000, timeout=1.0)
            if messages:
                deadline = time.monotonic() + timeout
            elif time.monotonic() > deadline:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT,
                                                "reading the state changelog stalled"))
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == error._PARTITION_EOF:
                        done = True
                        continue
                    raise KafkaException(error)  # the caller decides: retry or stop
                key, value = message.key(), message.value()
                if key is not None and value is not None:
                    yield key.decode(), orjson.loads(value)
    finally:
        consumer.close()
