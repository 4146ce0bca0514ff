"""Rows deleted at the source while no replication slot recorded it: delete them downstream.

After a lost or invalidated slot, `resnapshot` takes a full snapshot, so every row that
exists now arrives again and every change of the gap is superseded, except deletes: a
row deleted during the gap has no delete in any topic, so the processors and the sink
keep it (a ghost). Once the snapshot is committed, this compares each CDC topic's
living keys (latest record not a delete or tombstone) with the ids the table holds now,
and for each key the table no longer has it writes what Debezium would have written: a
delete event, then a tombstone.

The delete carries the source's current WAL position as its LSN, later than any event
already in the topic, so every stage applies it over the row's last version; if the
real delete was still on its way, the second one changes nothing. The topic is read
before the table: a row inserted in between is simply not in the topic yet, never taken
for a ghost. Only ids are read from the source, never a name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)

from connectors.db import connect
from connectors.errors import SourceError
from connectors.slot import current_lsn
from contracts.changes import ChangeRecordError, parse_change, tombstone_key
from contracts.settings import Settings
from contracts.tables import BUSINESS_TABLES
from contracts.topics import cdc_topic

RECOVERY_CONNECTOR = "boxoffice-recovery"
"""`source.connector` of the deletes written here, so they can be told from Debezium's."""


def living_keys(settings: Settings, table: str, *, timeout: float = 30.0) -> set[int]:
    """Ids whose latest record in the table's CDC topic is neither a delete nor a
    tombstone (records that do not parse are skipped: the stages dead-lettered them)."""
    topic = cdc_topic(settings, table)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": f"{RECOVERY_CONNECTOR}-{table}",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "enable.partition.eof": True})
    try:
        try:
            metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        except KafkaException as exc:
            raise SourceError(f"kafka: cannot read topic {topic} ({exc}); is Kafka up "
                              "(`boxoffice status`)?") from exc
        if metadata is None or metadata.error is not None or not metadata.partitions:
            return set()  # no topic (the table never had a change): nothing downstream
        partitions = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions]
        consumer.assign(partitions)
        alive: dict[int, bool] = {}
        pending = {tp.partition for tp in partitions}  # each says when it reached its end
        deadline = time.monotonic() + 30 * timeout
        while pending:
            if time.monotonic() > deadline:
                raise SourceError(f"kafka: reading {topic} to its end took over "
                                  f"{30 * timeout:.0f} s; run the recovery again")
            for message in consumer.consume(10_000, 1.0):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(message.partition())
                        continue
                    raise SourceError(f"kafka: reading {topic}: {error.str()}")
                _note(alive, table, message.key(), message.value())
        return {key for key, living in alive.items() if living}
    finally:
        consumer.close()


def _note(alive: dict[int, bool], table: str, key: bytes | None, value: bytes | None) -> None:
    try:
        change = parse_change(table, key, value)
        if change is None:
            alive[tombstone_key(key)] = False
        else:
            alive[change.key] = change.op != "d"
    except ChangeRecordError:
        return


def source_ids(settings: Settings, table: str) -> set[int]:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f'select id from "{settings.source_schema}"."{table}"')
            return {int(row[0]) for row in cur.fetchall()}
    finally:
        conn.close()


def delete_ghosts(settings: Settings, *, progress: Callable[[str], None] = lambda _l: None
                  ) -> dict[str, int]:
    """Write a delete and a tombstone for every ghost of every business table, children
    first (as a cascade would); returns how many per table."""
    lsn = current_lsn(settings)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "acks": "all",
                         "enable.idempotence": True, "client.id": RECOVERY_CONNECTOR})
    failures: list[str] = []

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    removed: dict[str, int] = {}
    for table in reversed(BUSINESS_TABLES):
        ghosts = sorted(living_keys(settings, table) - source_ids(settings, table))
        topic = cdc_topic(settings, table)
        now = int(time.time() * 1000)
        for row_id in ghosts:
            key = json.dumps({"id": row_id}).encode()
            producer.produce(topic, key=key, on_delivery=delivered, value=json.dumps({
                "before": {"id": row_id}, "after": None, "op": "d", "ts_ms": now,
                "source": {"lsn": lsn, "ts_ms": now, "table": table,
                           "schema": settings.source_schema,
                           "connector": RECOVERY_CONNECTOR}}).encode())
            producer.produce(topic, key=key, value=None, on_delivery=delivered)
            producer.poll(0)
        removed[table] = len(ghosts)
        progress(f"{table}: {len(ghosts)} row(s) deleted while no slot recorded it, now "
                 "deleted downstream too")
    if producer.flush(60) != 0 or failures:
        raise SourceError(f"kafka: the deletes of rows lost with the slot were not all "
                          f"written ({failures[:3] or 'timed out'}); run the recovery again")
    return removed
