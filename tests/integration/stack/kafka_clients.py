"""Small helpers the Kafka and Connect tests share: topics and draining a topic."""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from contracts.settings import Settings


@dataclass(frozen=True)
class Record:
    """What the tests look at in a consumed message, with the optional parts checked."""

    key: bytes | None
    value: bytes
    partition: int
    offset: int

    @classmethod
    def of(cls, message: Message) -> Record:
        value, partition, offset = message.value(), message.partition(), message.offset()
        assert value is not None and partition is not None and offset is not None
        return cls(message.key(), value, partition, offset)


def create_topic(settings: Settings, name: str, *, partitions: int = 3,
                 config: dict[str, str] | None = None) -> None:
    """Create a topic and wait until the broker confirms it (auto-creation is off)."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})]
    )
    futures[name].result(timeout=30)


def drain(settings: Settings, topic: str, *, count: int, deadline_seconds: float = 60,
          group: str | None = None) -> list[Record]:
    """Read a topic from the beginning until `count` records arrived (or the deadline).

    The topic may not exist yet: a connector or worker creates it in its own time.
    """
    consumer = Consumer({
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": group or f"drain-{topic}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    consumer.subscribe([topic])
    records: list[Record] = []
    deadline = time.monotonic() + deadline_seconds
    try:
        while len(records) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    continue  # not created yet (auto-creation is off): keep polling
                raise KafkaException(error)
            records.append(Record.of(message))
    finally:
        consumer.close()
    return records


def delete_topic(settings: Settings, name: str, *, deadline_seconds: float = 60) -> None:
    """Delete a topic and wait until the broker lists it no more (a deleted topic can be
    created again only then)."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    admin.delete_topics([name])[name].result(timeout=30)
    deadline = time.monotonic() + deadline_seconds
    while name in admin.list_topics(timeout=10).topics:
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} still listed {deadline_seconds} s after its deletion")
        time.sleep(0.2)


def end_offsets(settings: Settings, topic: str) -> list[int]:
    """Each partition's end offset (0 for a topic that does not exist yet)."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": f"end-offsets-{topic}"})
    try:
        found = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if found is None or found.error is not None:
            return []
        return [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in sorted(found.partitions)]
    finally:
        consumer.close()
