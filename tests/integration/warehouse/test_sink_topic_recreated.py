"""The facts topic deleted and created again while the sink runs: the new topic's offsets
start at 0 again, so without the topic's id in the tokens its first batches would carry
the tokens of the old topic's first batches and ClickHouse would drop them as stored.

Both bursts are produced at full speed, so size cuts (200 records) put the batches of the
two incarnations on the same offset ranges. With the ids every delta of both bursts is
stored once and the new id is recorded for `status`; the negative control (tokens without
ids) loses deltas of the second burst, silently.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from boxoffice.status.topics import RECREATED_FIX, facts_topic_recreated
from contracts.settings import Settings
from tests.integration.stack.kafka_clients import create_topic, delete_topic
from tests.integration.warehouse.sink_scenario import Scenario, wait_exact
from tests.integration.warehouse.warehouse_http import migrated
from tests.support.waiting import wait_until
from warehouse.sink.app import build_sink
from warehouse.sink.incarnations import kafka_topic_ids
from warehouse.sink.runner import Sink

pytestmark = pytest.mark.integration

BURST_STEPS = 1_500
PARTITIONS = 3


@contextmanager
def running(sink: Sink) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=sink.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)


def recreate(settings: Settings, topic: str) -> None:
    """Delete the topic, then create it again as soon as the broker lets us."""
    delete_topic(settings, topic)

    def created() -> bool:
        try:
            create_topic(settings, topic, partitions=PARTITIONS)
        except KafkaException:
            return False  # still being deleted
        return True

    wait_until(created, deadline_seconds=60, what=f"{topic} created again")


def caught_up(settings: Settings) -> bool:
    """The sink's group has committed the end of every partition of the facts topic."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": settings.sink_group, "enable.auto.commit": False})
    try:
        partitions = [TopicPartition(settings.facts_topic, p) for p in range(PARTITIONS)]
        committed = consumer.committed(partitions, timeout=10)
        ends = [consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions]
        return all(tp.offset == end for tp, end in zip(committed, ends, strict=True))
    finally:
        consumer.close()


def two_incarnations(settings: Settings, unique_name: Callable[[str], str], *,
                     topic_ids: bool, seed: int) -> Scenario:
    scenario = Scenario.create(settings, unique_name, batch_rows=200, seed=seed)
    sink = build_sink(scenario.settings, topic_ids=topic_ids)
    with running(sink):
        scenario.produce_facts(BURST_STEPS, moves=0.0)
        wait_exact(scenario)
        recreate(scenario.settings, scenario.settings.facts_topic)
        scenario.produce_facts(BURST_STEPS, moves=0.0)
        wait_until(lambda: caught_up(scenario.settings), deadline_seconds=120,
                   what="the sink to commit the new topic's end")
        if topic_ids:
            wait_exact(scenario)
    return scenario


def recorded_ids(scenario: Scenario) -> list[str]:
    rows = scenario.executor.rows(
        f"SELECT topic_id FROM {scenario.settings.clickhouse_database}.sink_topic_ids "
        f"FINAL WHERE topic = '{scenario.settings.facts_topic}' ORDER BY first_seen")
    return [str(topic_id) for (topic_id,) in rows]


def test_every_delta_of_both_incarnations_is_stored_once(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    scenario = two_incarnations(clickhouse, unique_name, topic_ids=True, seed=81)
    assert len(recorded_ids(scenario)) == 2, "the new incarnation's id was not recorded"


def test_negative_control_without_topic_ids_the_new_topic_loses_deltas(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    scenario = two_incarnations(clickhouse, unique_name, topic_ids=False, seed=82)
    assert scenario.fact_rows() < scenario.produced, (
        "every delta of the new topic was stored even without topic ids: the bursts no "
        "longer put the two incarnations' batches on the same offset ranges")


def test_status_names_the_recovery_once_the_sink_stored_another_incarnation(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    settings = clickhouse.model_copy(update={"facts_topic": unique_name("facts")})
    create_topic(settings, settings.facts_topic, partitions=PARTITIONS)
    executor = migrated(settings, settings.clickhouse_database)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    table = f"{settings.clickhouse_database}.sink_topic_ids"
    current = kafka_topic_ids(lambda: admin)([settings.facts_topic])[settings.facts_topic]
    executor.command(f"INSERT INTO {table} (topic, topic_id) VALUES "
                     f"('{settings.facts_topic}', '{current}')")
    assert facts_topic_recreated(settings, admin) is None  # the control: the same topic

    executor.command(f"INSERT INTO {table} (topic, topic_id) VALUES "
                     f"('{settings.facts_topic}', 'an-older-incarnation')")
    said = facts_topic_recreated(settings, admin)
    assert said is not None
    assert "an-older-incarnation" in said and current in said and RECREATED_FIX in said
