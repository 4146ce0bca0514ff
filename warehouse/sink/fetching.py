"""Reading from the consumer the way the sink needs it: what is fetched already, at once.

Kept apart from the batch protocol (runner.py) because each function answers a
librdkafka behaviour, not a rule of the sink: consume(n, timeout) waits for all n
records, fatal errors arrive as messages, and tens of thousands of Message objects per
call wake Python's cycle collector.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition

log = logging.getLogger("boxoffice.sink")

FETCH_RECORDS = 50_000
"""Records per consume() call at most: large fetches keep the per-call cost small."""


def fetch(consumer: Any, limit: int, timeout: float) -> list[Any]:
    """What the consumer has fetched already, up to `limit`; if nothing, wait up to
    `timeout` for the first record. (consume(n, timeout) alone would wait for all n
    records or the whole timeout even when records are waiting: a stall per call.)"""
    messages: list[Any] = consumer.consume(num_messages=limit, timeout=0)
    if messages:
        return messages
    messages = consumer.consume(num_messages=1, timeout=timeout)
    if messages and limit > 1:
        messages += consumer.consume(num_messages=limit - 1, timeout=0)
    return messages


def report_kafka_error(error: Any) -> None:
    """A message carrying an error: fatal ones stop the sink, others are logged."""
    if error.fatal():
        raise KafkaException(error)
    if error.code() != KafkaError._PARTITION_EOF:
        log.warning("Kafka reported: %s", error.str())


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Keep Python's cycle collector out of a fetch: each of the tens of thousands of
    Message objects one consume() returns is a tracked container, so the collector would
    run over them again and again (a sixth of the sink's main thread in a profile), and the
    sink makes no reference cycles there for it to find. The messages are freed by
    reference counting before the collector is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
