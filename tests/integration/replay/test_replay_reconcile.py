"""replay facts reconciles its shadow with PostgreSQL before it swaps.

Under running sales it matches (keys that change while it compares are judged on a later
round) and swaps. After retention deleted the head of the facts topic, what the topic
still holds is consistent in itself, so only the source can tell the shadow is short:
the replay refuses, names the difference and the next step, and the live warehouse is
left exactly as it was."""

from __future__ import annotations

import threading

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from boxoffice.pipeline import supervisor
from boxoffice.replay.control import ProcessControl
from boxoffice.replay.reconcile import SourceReconciler
from boxoffice.verify import verify_until
from connectors.traffic import sell
from contracts.settings import Settings
from warehouse.executor import ClientExecutor, connect
from warehouse.replay import ReplayOptions, ShadowCheckFailed, replay_facts
from warehouse.replay.offsets import end_offsets, start_offsets


def fact_table_uuid(settings: Settings) -> str:
    executor = ClientExecutor(connect(settings))
    try:
        ((uuid,),) = executor.rows(
            "SELECT toString(uuid) FROM system.tables WHERE database = "
            f"'{settings.clickhouse_database}' AND name = 'fact_ticket_sales'")
        return str(uuid)
    finally:
        executor.client.close()


def delete_head(settings: Settings) -> None:
    """What retention does after a week: the first half of every facts partition goes."""
    start = start_offsets(settings, settings.facts_topic, None)
    ends = end_offsets(settings, settings.facts_topic)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    futures = admin.delete_records([
        TopicPartition(settings.facts_topic, p, start[p] + (ends[p] - start[p]) // 2)
        for p in ends])
    for future in futures.values():
        future.result(30)


def test_replay_facts_matches_postgres_under_sales_and_refuses_a_lost_head(
        pipeline: Settings) -> None:
    settings = pipeline
    assert verify_until(settings, wait_seconds=300).ok
    sink = ProcessControl(supervisor(settings), "sink", print)

    sales = threading.Thread(target=sell, args=(settings,),
                             kwargs={"rate": 20, "duration": 25, "seed": 23})
    sales.start()
    try:
        report = replay_facts(settings, sink=sink,
                              reconcile=SourceReconciler(settings, wait_seconds=120),
                              options=ReplayOptions(show_progress=False))
    finally:
        sales.join()
    assert report.swapped, report.problems
    assert verify_until(settings, wait_seconds=300).ok

    delete_head(settings)
    before = fact_table_uuid(settings)
    with pytest.raises(ShadowCheckFailed, match="does not match PostgreSQL") as refused:
        replay_facts(settings, sink=sink,
                     reconcile=SourceReconciler(settings, wait_seconds=20),
                     options=ReplayOptions(show_progress=False))
    print(refused.value)
    assert "boxoffice replay cdc" in str(refused.value)
    assert fact_table_uuid(settings) == before  # nothing swapped
    assert sink.running()
    assert verify_until(settings, wait_seconds=120).ok  # the live warehouse is untouched
