"""Records the sink cannot store go to the dead-letter topic with the reason.

Delivery is confirmed (flushed) before the partition's offsets are committed, so a dead
letter is never lost; after a crash between the two it may be sent twice.
"""

from __future__ import annotations

import json
from typing import Any

from warehouse.sink.batches import Batch

MAX_VALUE_CHARS = 4096


def dead_letter(batch: Batch, offset: int, reason: str, key: bytes | None,
                value: bytes | None) -> bytes:
    def text(raw: bytes | None) -> str | None:
        return None if raw is None else raw[:MAX_VALUE_CHARS].decode("utf-8", "replace")

    return json.dumps({
        "stage": "sink", "reason": reason, "topic": batch.topic,
        "partition": batch.partition, "offset": offset, "key": text(key),
        "value": text(value),
    }).encode()


class DeadLetters:
    """A confirmed-delivery producer for the dead-letter topic."""

    def __init__(self, *, producer: Any, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    def send(self, batch: Batch) -> int:
        for dead in batch.dead:
            self.producer.produce(self.topic, key=dead.key,
                                  value=dead_letter(batch, dead.offset, dead.reason,
                                                    dead.key, dead.value))
            self.producer.poll(0)
        return len(batch.dead)

    def flush(self, timeout: float) -> bool:
        """True when every dead letter sent so far is acknowledged by Kafka."""
        return int(self.producer.flush(timeout)) == 0
