"""librdkafka client settings of a worker, in one place.

Every client is confluent-kafka (librdkafka): consuming and producing cost about a
microsecond per record from Python, against tens for Faust's per-event machinery.
Delivery reports are requested for failures only, so a healthy record costs no Python
call at all.
"""

from __future__ import annotations

from typing import Any

from contracts.settings import Settings

SESSION_TIMEOUT_MS = 10_000
"""A killed worker's partitions move to the others after this long."""
MAX_POLL_INTERVAL_MS = 300_000
"""Recovering a large partition from its changelog happens between polls."""
ROUTER_MESSAGE_TIMEOUT_MS = 60_000
"""A routed record not acknowledged by then fails its batch, which is routed again."""


def consumer_config(settings: Settings, *, worker: str) -> dict[str, Any]:
    """The worker's one consumer: CDC topics and join topic, group ``faust_app_id``."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": settings.faust_app_id,
        "client.id": worker,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "session.timeout.ms": SESSION_TIMEOUT_MS,
        "heartbeat.interval.ms": 1_000,
        "max.poll.interval.ms": MAX_POLL_INTERVAL_MS,
        "topic.metadata.refresh.interval.ms": 10_000,
        "fetch.wait.max.ms": 50,
        "queued.min.messages": 100_000,
        "fetch.queue.backoff.ms": 10,
    }


def _producer_base(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "linger.ms": 5,
        "batch.size": 1 << 20,
        "compression.type": "lz4",
        "partitioner": "murmur2_random",  # the Java client's: same key, same partition
        "delivery.report.only.error": True,
    }


def transactional_config(settings: Settings, transactional_id: str) -> dict[str, Any]:
    return {**_producer_base(settings), "transactional.id": transactional_id}


def router_config(settings: Settings) -> dict[str, Any]:
    """The join topic is read once, at once, on the same machine: compressing it only
    costs CPU (ours, and the broker's, which decompresses to validate)."""
    return {**_producer_base(settings), "enable.idempotence": True,
            "compression.type": "none", "message.timeout.ms": ROUTER_MESSAGE_TIMEOUT_MS}
