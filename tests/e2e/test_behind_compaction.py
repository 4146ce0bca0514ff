"""Processors and sink started behind log compaction still end exact.

While they are stopped, the CDC topics are compacted aggressively, so the deletes made
meanwhile (refunds, a cancelled purchase, a dropped performance and band) are gone from
the topics and only their tombstones are left. Started again, the processors and the
sink read tombstones where deletes were: each must still remove its row, or the
warehouse keeps ghost tickets and dimensions. The test first checks that compaction
really removed those deletes (the scenario happened), then that `verify` ends ALL MATCH
and no fact of a deleted ticket is left.
"""

from __future__ import annotations

import json
import time
import uuid

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
)

from boxoffice.pipeline import supervisor
from boxoffice.stack.components import pipeline_components
from boxoffice.verify import verify_until
from connectors.db import connect
from connectors.seed import seed
from contracts.settings import Settings
from warehouse.executor import ClientExecutor
from warehouse.executor import connect as clickhouse

AGGRESSIVE = {"segment.ms": "1000", "min.cleanable.dirty.ratio": "0.0001",
              "min.compaction.lag.ms": "0", "max.compaction.lag.ms": "1000",
              "delete.retention.ms": "600000"}
"""Roll a segment every second and clean any dirt at once (the seeded history makes a
few deletes a tiny dirty ratio, so the ratio alone would not trigger the cleaner; the
maximum lag does), and keep tombstones 10 minutes (the test starts the stages long
before that)."""
TABLES = ("tickets", "purchases", "performances", "bands")


def sql(settings: Settings, statement: str) -> list[tuple[object, ...]]:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description is not None else []
    finally:
        conn.close()


def topic(settings: Settings, table: str) -> str:
    return f"{settings.topic_prefix}.{settings.source_schema}.{table}"


def compact_aggressively(settings: Settings) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    resources = [ConfigResource(ConfigResource.Type.TOPIC, topic(settings, table),
                                incremental_configs=[
                                    ConfigEntry(name, value,
                                                incremental_operation=AlterConfigOpType.SET)
                                    for name, value in AGGRESSIVE.items()])
                 for table in TABLES]
    for future in admin.incremental_alter_configs(resources).values():
        future.result(30)


def deletes_and_tombstones(settings: Settings, table: str) -> tuple[set[int], set[int]]:
    """Ids with a delete record, ids with a tombstone, in the topic as it is now."""
    name = topic(settings, table)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": f"compaction-probe-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    deletes: set[int] = set()
    tombstones: set[int] = set()
    try:
        partitions = consumer.list_topics(name, timeout=30).topics[name].partitions
        ends = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(name, p), timeout=30)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(name, p, 0) for p in ends])
        deadline = time.monotonic() + 60
        while ends and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                positions = consumer.position([TopicPartition(name, p) for p in ends])
                if all(tp.offset >= ends[tp.partition] for tp in positions):
                    break
                continue
            if message.error() is not None:
                continue
            row_id = json.loads(message.key())["id"]
            if message.value() is None:
                tombstones.add(row_id)
            elif json.loads(message.value()).get("op") == "d":
                deletes.add(row_id)
    finally:
        consumer.close()
    return deletes, tombstones


def test_stages_started_behind_compaction_end_exact(running_pipeline: Settings) -> None:
    settings = running_pipeline
    s = settings.source_schema
    seed(settings, scale=0.01, seed_value=13)
    ((band,),) = sql(settings, f"insert into {s}.bands (name, fee) values "
                               "('The Compacted', 100) returning id")
    ((performance,),) = sql(settings, f"insert into {s}.performances (performance_start, "
                                      f"band_id, venue_id) values (now() + interval "
                                      f"'30 days', {band}, 1) returning id")
    assert verify_until(settings, wait_seconds=240).ok

    stages = [c.name for c in pipeline_components(settings)]
    supervisor(settings).down(stages, progress=print)
    compact_aggressively(settings)

    refunded = [int(r[0]) for r in sql(
        settings, f"update {s}.tickets set price = price + 1 where id in (select id from "
                  f"{s}.tickets order by id limit 40) returning id")]
    sql(settings, f"delete from {s}.tickets where id in "
                  f"({','.join(map(str, refunded))})")  # updated, then refunded
    ((purchase,),) = sql(settings, f"select max(purchase_id) from {s}.tickets")
    cancelled = [int(r[0]) for r in sql(
        settings, f"delete from {s}.tickets where purchase_id = {purchase} returning id")]
    sql(settings, f"delete from {s}.purchases where id = {purchase}")
    sql(settings, f"delete from {s}.performances where id = {performance}")
    sql(settings, f"delete from {s}.bands where id = {band}")

    deleted = {"tickets": set(refunded) | set(cancelled), "purchases": {purchase},
               "performances": {performance}, "bands": {band}}
    deadline = time.monotonic() + 240
    while True:  # records in every partition roll the segments holding the deletes
        for table in TABLES:
            sql(settings, f"update {s}.{table} set id = id where id in (select id from "
                          f"{s}.{table} order by id desc limit 24)")
        found = {t: deletes_and_tombstones(settings, t) for t in TABLES}
        if all(not (found[t][0] & deleted[t]) and deleted[t] <= found[t][1]
               for t in TABLES):
            break
        assert time.monotonic() < deadline, (
            "compaction did not remove the deletes: "
            f"{ {t: sorted(found[t][0] & deleted[t])[:5] for t in TABLES} }")
        time.sleep(3)

    supervisor(settings).up(stages, progress=print)
    report = verify_until(settings, wait_seconds=240)
    assert report.ok, [r.as_dict() for r in report.results if not r.ok][:3]
    executor = ClientExecutor(clickhouse(settings))
    try:
        db = settings.clickhouse_database
        ghosts = executor.rows(
            f"SELECT ticket_id, sum(sign) AS n FROM {db}.fact_ticket_sales WHERE ticket_id "
            f"IN ({','.join(map(str, sorted(deleted['tickets'])))}) GROUP BY ticket_id "
            "HAVING n != 0")
        bands = executor.rows(f"SELECT count() FROM {db}.bands WHERE id = {band}")
    finally:
        executor.client.close()
    assert ghosts == []
    assert bands == [(0,)]
