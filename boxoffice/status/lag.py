"""Consumer lag per group: committed offsets against the partitions' last stable offsets.

Groups: the sink's and the processors' (Faust). Kafka Connect's source connector reads
Postgres, not Kafka: its lag is the replication slot's retained WAL (connector section).
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, IsolationLevel, TopicPartition
from confluent_kafka.admin import OffsetSpec

from boxoffice.status.kafka_admin import REQUEST_TIMEOUT_SECONDS, admin_client, consumer_config
from boxoffice.status.model import DOWN, OK, UNKNOWN, Section
from contracts.settings import Settings
from contracts.topics import join_topic, processor_input_topics


def groups(settings: Settings) -> dict[str, str]:
    """Role -> consumer group id."""
    return {"sink": settings.sink_group, "processors": settings.faust_app_id}


def group_lag(committed: dict[tuple[str, int], int], ends: dict[tuple[str, int], int]
              ) -> dict[str, int]:
    """Per topic: messages after the committed offset (pure; negative clamps to 0)."""
    out: dict[str, int] = {}
    for (topic, partition), offset in committed.items():
        end = ends.get((topic, partition))
        if end is None or offset < 0:
            continue
        out[topic] = out.get(topic, 0) + max(end - offset, 0)
    return out


def group_topics(settings: Settings) -> dict[str, list[str]]:
    """Role -> the topics its group consumes (what the sink and the processors read)."""
    from warehouse.sink.routes import routes

    return {"sink": sorted(routes(settings)),
            "processors": [*processor_input_topics(settings), join_topic(settings)]}


def _committed(settings: Settings, group: str, topics: list[str]
               ) -> dict[tuple[str, int], int]:
    """The group's committed offsets, read through a consumer that never joins the group.

    Not AdminClient.list_consumer_group_offsets: librdkafka 2.x crashes the process
    (SIGSEGV in rd_kafka_cgrp_op) when that call meets a coordinator still loading, as
    on a freshly started broker; a consumer handle takes the safe path.
    """
    consumer = Consumer(consumer_config(settings, group))
    try:
        metadata = consumer.list_topics(timeout=REQUEST_TIMEOUT_SECONDS).topics
        partitions = [TopicPartition(topic, p) for topic in topics if topic in metadata
                      for p in metadata[topic].partitions]
        if not partitions:
            return {}
        found = consumer.committed(partitions, timeout=REQUEST_TIMEOUT_SECONDS)
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): tp.offset for tp in found
            if tp.error is None and tp.offset >= 0}


def lag_section(settings: Settings) -> Section:
    admin = admin_client(settings)
    t = REQUEST_TIMEOUT_SECONDS
    data: dict[str, Any] = {}
    topics = group_topics(settings)
    try:
        for role, group in groups(settings).items():
            committed = _committed(settings, group, topics[role])
            ends: dict[tuple[str, int], int] = {}
            if committed:
                request = {TopicPartition(topic, partition): OffsetSpec.latest()
                           for topic, partition in committed}
                answers = admin.list_offsets(
                    request, isolation_level=IsolationLevel.READ_COMMITTED,
                    request_timeout=t)
                for tp, answer in answers.items():
                    ends[(tp.topic, tp.partition)] = answer.result(timeout=t + 0.5).offset
            by_topic = group_lag(committed, ends)
            data[role] = {"group": group, "lag": sum(by_topic.values()),
                          "by_topic": by_topic, "partitions": len(committed)}
    except Exception as exc:
        if not data:
            return Section(name="consumer_lag", state=DOWN,
                           summary=f"Kafka unreachable ({_short(exc)})", data={"groups": {}})
        return Section(name="consumer_lag", state=UNKNOWN, summary=_short(exc),
                       data={"groups": data})
    summary = ", ".join(
        f"{role} {info['lag']:,}" if info["partitions"] else f"{role} no commits yet"
        for role, info in data.items())
    return Section(name="consumer_lag", state=OK, summary=summary, data={"groups": data})


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__
