"""Reading CDC topics in tests: everything up to the current end, or until a condition."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from contracts.settings import Settings
from tests.support.waiting import wait_until


@dataclass(frozen=True)
class Event:
    topic: str
    partition: int
    offset: int
    key: Any
    value: Any
    """The Debezium envelope, or None for a tombstone."""
    raw: bytes


def _consumer(settings: Settings) -> Consumer:
    return Consumer({
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": f"test-{uuid.uuid4().hex[:8]}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    })


def list_topics(settings: Settings, prefix: str) -> list[str]:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    names = admin.list_topics(timeout=10).topics
    return sorted(t for t in names if t.startswith(prefix))


def read_all(settings: Settings, topic: str, *, timeout: float = 30.0) -> list[Event]:
    """Every committed record of `topic` from the beginning to its current end."""
    consumer = _consumer(settings)
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        ends: dict[int, int] = {}
        parts = []
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                ends[p] = high
                parts.append(TopicPartition(topic, p, low))
        if not parts:
            return []
        consumer.assign(parts)
        events: list[Event] = []
        deadline = time.monotonic() + timeout
        position = {p.partition: p.offset for p in parts}
        while any(position[p] < ends[p] for p in ends) and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                # transaction markers occupy offsets: ask where the consumer really is
                for tp in consumer.position([TopicPartition(topic, p) for p in ends]):
                    if tp.offset >= 0:
                        position[tp.partition] = tp.offset
                continue
            position[msg.partition() or 0] = (msg.offset() or 0) + 1
            events.append(_event(msg))
        return events
    finally:
        consumer.close()


def _event(msg: Any) -> Event:
    raw_value = msg.value()
    return Event(topic=msg.topic(), partition=msg.partition(), offset=msg.offset(),
                 key=json.loads(msg.key()) if msg.key() else None,
                 value=json.loads(raw_value) if raw_value else None,
                 raw=(msg.key() or b"") + b"|" + (raw_value or b""))


NOT_YET = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
           KafkaError.UNKNOWN_TOPIC_OR_PART}
"""Errors of a topic still being created: wait_for reads again."""


def wait_for(settings: Settings, topic: str, condition: Callable[[list[Event]], bool], *,
             deadline_seconds: float = 90.0) -> list[Event]:
    """Re-read `topic` until `condition(events)` holds; AssertionError at the deadline."""
    events: list[Event] = []

    def met() -> bool:
        events[:] = _read_once_created(settings, topic)
        return condition(events)

    try:
        wait_until(met, deadline_seconds=deadline_seconds, what=f"{topic} to meet the condition")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {len(events)} events read") from None
    return events


def _read_once_created(settings: Settings, topic: str) -> list[Event]:
    """`read_all`, or no events while the connector is still creating the topic."""
    try:
        return read_all(settings, topic)
    except KeyError:  # the connector has not created the topic yet
        return []
    except KafkaException as exc:
        # a topic Debezium has just created is listed before its partitions have a
        # leader (NOT_LEADER_FOR_PARTITION on the watermarks, seen in CI): not yet
        if not exc.args[0].retriable() and exc.args[0].code() not in NOT_YET:
            raise
        return []
