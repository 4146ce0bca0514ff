"""Read the whole dead-letter topic back, and name each dead letter by its origin.

Dead letters may legitimately be repeated after a crash (processors' route agent and the
sink both document it), so the suite compares the *set* of origins (topic, partition,
offset) with the poison records it injected; the raw count is reported beside it.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from contracts.settings import Settings

Origin = tuple[str, int, int]
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class DeadLetters:
    records: list[dict[str, Any]]

    @property
    def origins(self) -> set[Origin]:
        return {(r.get("topic"), r.get("partition"), r.get("offset"))  # type: ignore[misc]
                for r in self.records}

    def stages(self) -> dict[Origin, set[str]]:
        out: dict[Origin, set[str]] = {}
        for r in self.records:
            key = (r.get("topic"), r.get("partition"), r.get("offset"))
            out.setdefault(key, set()).add(str(r.get("stage")))  # type: ignore[arg-type]
        return out

    def summary(self, limit: int = 5) -> str:
        shown = [{k: r.get(k) for k in ("stage", "reason", "topic", "partition", "offset")}
                 for r in self.records[:limit]]
        return f"{len(self.records)} dead letters, e.g. {shown}"


def read_dead_letters(settings: Settings, *, timeout: float = 30.0) -> DeadLetters:
    """Every committed record of settings.dead_letter_topic, decoded."""
    consumer = Consumer({
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": f"chaos-dead-letters-{uuid.uuid4().hex[:8]}",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
    })
    try:
        meta = consumer.list_topics(settings.dead_letter_topic, timeout=timeout)
        topic = meta.topics.get(settings.dead_letter_topic)
        if topic is None or topic.error is not None:
            return DeadLetters(records=[])
        ends: dict[int, int] = {}
        assignment = []
        for partition in topic.partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(settings.dead_letter_topic, partition), timeout=timeout)
            if high > low:
                ends[partition] = high
                assignment.append(TopicPartition(settings.dead_letter_topic, partition, low))
        if not assignment:
            return DeadLetters(records=[])
        consumer.assign(assignment)
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            message = consumer.poll(POLL_SECONDS)
            if message is None:
                # transaction markers are never delivered: the position says we are done
                positions = consumer.position(
                    [TopicPartition(settings.dead_letter_topic, p) for p in ends])
                if all(tp.offset >= ends[tp.partition] for tp in positions):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"dead-letter topic not read to its end in {timeout} s")
                continue
            if message.error() is not None:
                raise KafkaException(message.error())
            value = message.value()
            if value is not None:
                records.append(json.loads(value))
        return DeadLetters(records=records)
    finally:
        consumer.close()
