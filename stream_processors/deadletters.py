"""Dead-letter records: what failed, why, and where it came from.

The record carries the source topic, partition and offset so the original can be found
and replayed; the raw value is truncated so one huge record cannot clog the topic.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from stream_processors.metrics import Metrics

log = logging.getLogger("boxoffice.processors")

MAX_VALUE_CHARS = 4096
STAGE = "processors"


def dead_letter(*, reason: str, topic: str, partition: int, offset: int,
                key: bytes | None, value: bytes | None) -> bytes:
    return json.dumps({
        "stage": STAGE,
        "reason": reason[:1000],
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "key": _text(key),
        "value": _text(value),
    }, separators=(",", ":")).encode()


def dead_letter_of(message: Any, reason: str, metrics: Metrics) -> bytes:
    """The dead letter of a consumed Kafka message, counted and logged (both stages)."""
    metrics.dead_letters += 1
    log.warning("dead letter from %s[%s]@%s: %s", message.topic(), message.partition(),
                message.offset(), reason)
    return dead_letter(reason=reason, topic=message.topic(), partition=message.partition(),
                       offset=message.offset(), key=message.key(), value=message.value())


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", errors="replace")[:MAX_VALUE_CHARS]
