"""Dead letters per stage, counted from the dead-letter topic's records ("stage" field).

Kept cheap: counts and the next offset per partition are cached under the state
directory, so each `status` reads only records added since the previous one, and stops
at a short deadline (the count is then marked partial and completes on the next call).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from boxoffice.status.kafka_admin import consumer_config
from boxoffice.status.model import DOWN, OK, WARN, Section
from contracts.files import write_atomically
from contracts.settings import Settings

SCAN_SECONDS = 2.0
STATUS_GROUP = "boxoffice-status"
"""Never commits: offsets live in the cache file, not in Kafka."""


def stage_of(value: bytes | None) -> str:
    """The stage a dead letter came from; "unknown" if the record is not ours (pure)."""
    try:
        stage = json.loads(value or b"").get("stage")
    except (ValueError, AttributeError):
        return "unknown"
    return stage if isinstance(stage, str) and stage else "unknown"


def count_stages(values: Iterable[bytes | None]) -> Counter[str]:
    return Counter(stage_of(v) for v in values)


@dataclass
class Tally:
    """What has been counted so far: stage counts and, per partition, the next offset."""

    topic: str
    next_offsets: dict[int, int] = field(default_factory=dict)
    stages: Counter[str] = field(default_factory=Counter)

    def start_offset(self, partition: int, low: int, high: int) -> int:
        """Where to resume; a partition that shrank (topic recreated) starts over."""
        start = self.next_offsets.get(partition)
        if start is None:
            return OFFSET_BEGINNING if low < high else low
        if start > high:
            self.reset()
            return OFFSET_BEGINNING
        return max(start, low)

    def reset(self) -> None:
        self.next_offsets.clear()
        self.stages.clear()

    def to_json(self) -> str:
        return json.dumps({"topic": self.topic, "next_offsets": self.next_offsets,
                           "stages": dict(self.stages)})

    @classmethod
    def load(cls, path: Path, topic: str) -> Tally:
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls(topic=topic)
        if raw.get("topic") != topic:
            return cls(topic=topic)
        return cls(topic=topic,
                   next_offsets={int(k): int(v) for k, v in raw["next_offsets"].items()},
                   stages=Counter({str(k): int(v) for k, v in raw["stages"].items()}))


def cache_path(settings: Settings) -> Path:
    return settings.run_dir / "status-dead-letters.json"


def scan(settings: Settings, tally: Tally, *, seconds: float = SCAN_SECONDS) -> bool:
    """Count records added since the tally's offsets; True when it reached the end."""
    consumer = Consumer(consumer_config(settings, STATUS_GROUP))
    try:
        metadata = consumer.list_topics(tally.topic, timeout=1.5).topics.get(tally.topic)
        if metadata is None or metadata.error is not None:
            tally.reset()  # no such topic: nothing dead yet
            return True
        ends: dict[int, int] = {}
        assignment = []
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(tally.topic, partition), timeout=1.0)
            start = tally.start_offset(partition, low, high)
            if start != OFFSET_BEGINNING and start >= high:
                continue
            ends[partition] = high
            assignment.append(TopicPartition(tally.topic, partition, start))
        if not assignment:
            return True
        consumer.assign(assignment)
        deadline = time.monotonic() + seconds
        while ends and time.monotonic() < deadline:
            for message in consumer.consume(1000, timeout=0.2):
                partition = message.partition() or 0
                offset = message.offset() or 0
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        ends.pop(partition, None)
                    continue
                tally.stages[stage_of(message.value())] += 1
                tally.next_offsets[partition] = offset + 1
                if offset + 1 >= ends.get(partition, 0):
                    ends.pop(partition, None)
        return not ends
    finally:
        consumer.close()


def dead_letters_section(settings: Settings) -> Section:
    path = cache_path(settings)
    tally = Tally.load(path, settings.dead_letter_topic)
    try:
        complete = scan(settings, tally)
    except Exception as exc:
        return Section(name="dead_letters", state=DOWN,
                       summary=f"Kafka unreachable ({type(exc).__name__})",
                       data={"by_stage": dict(tally.stages), "complete": False})
    write_atomically(path, tally.to_json())
    total = sum(tally.stages.values())
    text = ", ".join(f"{stage} {count:,}" for stage, count in sorted(tally.stages.items()))
    data: dict[str, Any] = {"topic": tally.topic, "by_stage": dict(tally.stages),
                            "total": total, "complete": complete}
    return Section(name="dead_letters", state=WARN if total else OK,
                   summary=(text or "none") + ("" if complete else " (still counting)"),
                   data=data)
