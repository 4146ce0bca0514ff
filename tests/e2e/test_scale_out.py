"""Scale-out: two processor workers and two sink processes share the partitions.

Under live sales, one worker and one sink process are killed (SIGKILL); the survivors
take every partition over (the consumer groups' assignments show it), then the killed
ones are started again and take their share back. Afterwards verify is ALL MATCH and the
per-ticket oracle finds every PostgreSQL ticket once in the facts (0 lost, 0 doubled),
with no dead letter.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import AdminClient

from boxoffice.status.processors import processors_section
from boxoffice.status.sink import sink_section
from boxoffice.verify import verify_until
from contracts.settings import Settings
from tests.chaos import faults
from tests.chaos.deadletters import read_dead_letters
from tests.chaos.per_ticket import ticket_differences
from tests.e2e.flow import explain, sales, seeded_and_exact
from tests.support.isolated_pipeline import IsolatedPipeline
from tests.support.waiting import wait_until

WORKERS, SINKS = 2, 2


def members(settings: Settings, group: str) -> list[int]:
    """How many partitions each member of a consumer group holds now."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    (described,) = admin.describe_consumer_groups([group], request_timeout=10).values()
    return sorted(len(m.assignment.topic_partitions) for m in described.result().members)


def owned_by(settings: Settings, count: int) -> bool:
    """Both groups have `count` members, each holding partitions."""
    return all(len(held) == count and all(held)
               for held in (members(settings, settings.faust_app_id),
                            members(settings, settings.sink_group)))


@pytest.fixture(scope="module")
def scaled_pipeline(postgres: Settings, kafka: Settings, connect: Settings,
                    clickhouse: Settings) -> Iterator[IsolatedPipeline]:
    base = postgres.model_copy(update={"faust_workers": WORKERS, "sink_processes": SINKS})
    pipeline = IsolatedPipeline.create(base, f"e2e_{uuid.uuid4().hex[:8]}",
                                       say=lambda line: print(f"[e2e] {line}"))
    pipeline.up()
    yield pipeline
    pipeline.remove()


def test_killing_one_worker_and_one_sink_under_sales_loses_and_doubles_nothing(
        scaled_pipeline: IsolatedPipeline) -> None:
    settings, supervisor = scaled_pipeline.settings, scaled_pipeline.supervisor
    seeded_and_exact(settings, seed_value=23)
    processors = processors_section(settings)
    assert processors.data["workers_up"] == WORKERS, processors.summary
    wait_until(lambda: sink_section(settings).data["processes_running"] == SINKS,
               deadline_seconds=30, what=f"status to count {SINKS} sink processes")
    assert owned_by(settings, 2)

    with sales(settings, duration=45, seed=41):
        time.sleep(10)
        faults.kill9(supervisor, "processors-1")
        faults.kill9(supervisor, "sink-1")
        assert sink_section(settings).state == "warn"  # one sink process of two
        # the survivors take every partition over while the others are away
        wait_until(lambda: owned_by(settings, 1), deadline_seconds=60,
                   what="the surviving worker and sink to hold every partition")
        faults.start(supervisor, "processors-1")
        faults.start(supervisor, "sink-1")

    report = verify_until(settings, wait_seconds=300)
    assert report.ok, explain(report, settings)
    assert ticket_differences(settings) == []
    assert read_dead_letters(settings).records == []
    assert sink_section(settings).state == "ok"
    assert owned_by(settings, 2)  # and the restarted ones took their share back
