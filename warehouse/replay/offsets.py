"""Where a replay starts and stops reading, per partition, and the sink group's offsets.

Ends are last stable offsets (READ_COMMITTED): the processors write facts in Kafka
transactions, so nothing past an open transaction is readable yet. Group offsets are read
and written through a consumer handle that never joins the group (`committed`, `commit`
with explicit offsets), the path `boxoffice status` uses too.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from confluent_kafka import Consumer, IsolationLevel, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from contracts.settings import Settings
from warehouse.replay.errors import ReplayError

Offsets = dict[int, int]
"""partition -> offset."""

TIMEOUT_SECONDS = 30.0


def partitions(settings: Settings, topic: str) -> list[int]:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    metadata = admin.list_topics(topic, timeout=TIMEOUT_SECONDS).topics.get(topic)
    if metadata is None or metadata.error is not None or not metadata.partitions:
        raise ReplayError(
            f"replay: the topic {topic} does not exist on {settings.kafka_bootstrap}; "
            "check settings.facts_topic (BOXOFFICE_FACTS_TOPIC) and that Kafka is up. "
            "Nothing was changed.")
    return sorted(metadata.partitions)


def _list(settings: Settings, topic: str, spec: dict[int, OffsetSpec]) -> Offsets:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    futures = admin.list_offsets(
        {TopicPartition(topic, p): s for p, s in spec.items()},
        isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=TIMEOUT_SECONDS)
    return {tp.partition: future.result(TIMEOUT_SECONDS).offset
            for tp, future in futures.items()}


def end_offsets(settings: Settings, topic: str) -> Offsets:
    """The last stable offset of every partition: what a read_committed reader can reach."""
    return _list(settings, topic, {p: OffsetSpec.latest()
                                   for p in partitions(settings, topic)})


def start_offsets(settings: Settings, topic: str, since: datetime | None) -> Offsets:
    """The earliest retained offsets, or the first offsets at or after `since`
    (partitions with nothing that recent start at their end)."""
    parts = partitions(settings, topic)
    earliest = _list(settings, topic, {p: OffsetSpec.earliest() for p in parts})
    if since is None:
        return earliest
    ms = int(since.timestamp() * 1000)
    found = _list(settings, topic, {p: OffsetSpec.for_timestamp(ms) for p in parts})
    ends = end_offsets(settings, topic)
    return {p: max(earliest[p], found[p] if found[p] >= 0 else ends[p]) for p in parts}


def _group_consumer(settings: Settings, group: str) -> Any:
    return Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": group,
                     "enable.auto.commit": False})


def committed_offsets(settings: Settings, group: str, topic: str) -> Offsets:
    """The group's committed offsets on `topic` (partitions never committed are absent)."""
    consumer = _group_consumer(settings, group)
    try:
        wanted = [TopicPartition(topic, p) for p in partitions(settings, topic)]
        found = consumer.committed(wanted, timeout=TIMEOUT_SECONDS)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in found if tp.error is None and tp.offset >= 0}


def nothing_readable(settings: Settings, topic: str, partition: int, start: int, end: int,
                     *, timeout_seconds: float = 10.0) -> bool:
    """Whether a read_committed reader finds no record at an offset in [start, end).

    Transaction markers and aborted records take offsets but are never read, and a
    consumer commits the offset after the last record it read: a group that read
    everything of a transactional topic (Kafka Connect's exactly-once writes, the
    processors' facts) stays one marker below the end until the next record comes, which
    on a quiet table is never. False also when it cannot be told within the timeout."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": f"boxoffice-probe-{uuid.uuid4().hex[:12]}",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "auto.offset.reset": "earliest",
                         "isolation.level": "read_committed"})
    try:
        consumer.assign([TopicPartition(topic, partition, start)])
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error, offset = message.error(), message.offset()
            if offset is not None and (error is None
                                       or error.code() == KafkaError._PARTITION_EOF):
                return offset >= end  # a record's offset, or the EOF's: the stable end
        return False
    finally:
        consumer.close()


def commit_offsets(settings: Settings, group: str, topic: str, offsets: Offsets, *,
                   deadline_seconds: float = 60.0) -> None:
    """Set the group's offsets on `topic` (its other topics keep theirs).

    The group must have no live member. A member killed without leaving is expired by
    the broker after its session timeout, so refusals are retried until the deadline.
    """
    wanted = [TopicPartition(topic, p, o) for p, o in sorted(offsets.items())]
    deadline = time.monotonic() + deadline_seconds
    while True:
        consumer = _group_consumer(settings, group)
        try:
            done = consumer.commit(offsets=wanted, asynchronous=False)
            failed = [tp for tp in done or [] if tp.error is not None]
            if not failed:
                return
            problem = "; ".join(f"{tp.partition}: {tp.error}" for tp in failed)
        except KafkaException as exc:
            problem = str(exc)
        finally:
            consumer.close()
        if time.monotonic() > deadline:
            raise ReplayError(
                f"replay: could not set the offsets of group {group} on {topic} "
                f"({problem}). Is a member of {group} still running? Stop it and run "
                "the replay again.")
        time.sleep(1.0)
