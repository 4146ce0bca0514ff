"""A batch that holds everything its partition has is stored after the short wait
(`sink_batch_min_seconds`), not after the long one (`sink_batch_seconds`).

The facts are written in Kafka transactions, as the processors write them, so every
partition ends on a commit marker: the end of the partition must still be seen past it
(read_committed). The long wait is set to a minute here, so only the partition-end rule
can store the facts within the deadline; the negative control (short wait = long wait)
shows that without it they are not stored in that time.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Producer

from contracts.settings import Settings
from tests.integration.warehouse.sink_scenario import Scenario
from tests.support.waiting import wait_until
from warehouse.sink.app import build_sink

pytestmark = pytest.mark.integration

LONG_WAIT_SECONDS = 60.0
STORED_WITHIN_SECONDS = 20.0
"""Far below the long wait and far above the short one: a loaded machine cannot make
the rule look broken, and the timer cannot make it look present."""
STEPS = 40


def produce_in_a_transaction(scenario: Scenario, steps: int) -> None:
    producer = Producer({"bootstrap.servers": scenario.settings.kafka_bootstrap,
                         "transactional.id": f"partition-end-{uuid.uuid4().hex}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for row in scenario.workload.script(steps, moves=0.0):
        producer.produce(scenario.settings.facts_topic, key=row.key, value=row.to_json())
        scenario.produced += 1
    producer.commit_transaction(30)


def stored_within(scenario: Scenario, seconds: float) -> bool:
    sink = build_sink(scenario.settings)
    stop = threading.Event()
    thread = threading.Thread(target=sink.run, args=(stop,), daemon=True)
    thread.start()
    try:
        produce_in_a_transaction(scenario, STEPS)
        wait_until(lambda: scenario.fact_rows() == scenario.produced,
                   deadline_seconds=seconds, poll=0.5,
                   what=f"{scenario.produced} facts stored")
        return True
    except AssertionError:
        return False
    finally:
        stop.set()
        thread.join(timeout=60)


def scenario_with(settings: Settings, unique_name: Callable[[str], str], *,
                  short_wait: float) -> Scenario:
    scenario = Scenario.create(settings, unique_name)
    scenario.settings = scenario.settings.model_copy(update={
        "sink_batch_seconds": LONG_WAIT_SECONDS, "sink_batch_min_seconds": short_wait})
    return scenario


def test_facts_at_the_end_of_their_partitions_are_stored_after_the_short_wait(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    scenario = scenario_with(clickhouse, unique_name, short_wait=0.1)
    assert stored_within(scenario, STORED_WITHIN_SECONDS)
    assert scenario.exact()


def test_negative_control_with_only_the_long_wait_they_are_not(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str]) -> None:
    scenario = scenario_with(clickhouse, unique_name, short_wait=LONG_WAIT_SECONDS)
    assert not stored_within(scenario, STORED_WITHIN_SECONDS)
