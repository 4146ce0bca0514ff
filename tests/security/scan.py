"""Readers of everything a leak could end up in: every record of every Kafka topic the
pipeline writes and every row of every table of its ClickHouse database, as raw text.

The session's services are shared with other suites (each with its own names, see
tests/isolated_pipeline.py), so "every" means every topic and table of this pipeline:
its CDC topics, facts, heartbeat, dead-letter and metrics topics, the processors'
internal topics, Kafka Connect's internal topics and Kafka's own (__consumer_offsets,
__transaction_state), and its ClickHouse database plus `default`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from contracts.settings import Settings
from warehouse.executor import connect as ch_connect

PERSON_NAME = re.compile(rb"[A-Z][a-z]+ [A-Z]\. [A-Z][A-Za-z'-]+")
"""The shape of the generator's and the traffic's people names ("First X. Last")."""
READ_DEADLINE_SECONDS = 180.0
SHARED_TOPIC_PREFIXES = ("__", "boxoffice-connect-")
"""Kafka's internal topics and Kafka Connect's (configs, offsets, status)."""


def pipeline_topic(settings: Settings, name: str) -> bool:
    own = (settings.facts_topic, settings.heartbeat_topic, settings.dead_letter_topic,
           settings.metrics_topic)
    return (name in own or name.startswith(f"{settings.topic_prefix}.")
            or name.startswith(settings.faust_app_id)
            or name.startswith(SHARED_TOPIC_PREFIXES))


def kafka_records(settings: Settings) -> Iterator[tuple[str, bytes]]:
    """(topic, key + value) of every record of every topic, internal ones included,
    aborted transactions included (read_uncommitted)."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": "security-scan", "enable.auto.commit": False,
                         "isolation.level": "read_uncommitted"})
    try:
        metadata = consumer.list_topics(timeout=10)
        ends: dict[tuple[str, int], int] = {}
        for name, topic in metadata.topics.items():
            if not pipeline_topic(settings, name):
                continue
            for partition in topic.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(name, partition),
                                                           timeout=10)
                if high > low:
                    ends[(name, partition)] = high
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in ends])
        deadline = time.monotonic() + READ_DEADLINE_SECONDS
        while ends and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=2000, timeout=1.0):
                if message.error():
                    continue
                yield str(message.topic()), (message.key() or b"") + b"\t" + (message.value()
                                                                          or b"")
            # positions, not last offsets: transaction markers are never delivered
            for tp in consumer.position([TopicPartition(t, p) for t, p in ends]):
                if tp.offset >= ends[(tp.topic, tp.partition)]:
                    ends.pop((tp.topic, tp.partition))
        if ends:
            raise AssertionError(f"could not read every topic within {READ_DEADLINE_SECONDS}"
                                 f" s; unread partitions: {sorted(ends)[:5]}")
    finally:
        consumer.close()


def kafka_topics(settings: Settings) -> set[str]:
    """The pipeline's topics (see `pipeline_topic`)."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": "security-scan"})
    try:
        return {t for t in consumer.list_topics(timeout=10).topics
                if pipeline_topic(settings, t)}
    finally:
        consumer.close()


def clickhouse_tables(settings: Settings) -> Iterator[tuple[str, bytes]]:
    """(database.table, every row as TSV) of every stored table of the pipeline's
    database and of `default`."""
    client = ch_connect(settings)
    try:
        tables = client.query(
            "SELECT database, name FROM system.tables WHERE database IN "
            f"('{settings.clickhouse_database}', 'default') "
            "AND engine NOT IN ('View', 'MaterializedView') "
            "ORDER BY database, name").result_rows
        for database, table in tables:
            body = client.raw_query(f"SELECT * FROM `{database}`.`{table}` FORMAT TSV")
            yield f"{database}.{table}", bytes(body)
    finally:
        client.close()
