"""replay cdc through the whole pipeline: Postgres -> Debezium -> Kafka -> processors ->
sink -> ClickHouse, the processors and the sink under the real supervisor. With sales
running, `replay_cdc` re-runs the processors into the next facts topic, rebuilds the
warehouse from it and switches the pipeline; after the sales stop `verify` passes, and the
new processors and sink keep the warehouse exact on the new topic."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka.admin import AdminClient

from boxoffice.pipeline import supervisor
from boxoffice.replay.cdc import replay_cdc
from boxoffice.verify import verify_until
from connectors import manage
from connectors.seed import seed
from connectors.traffic import run_workload
from contracts.settings import GENERATION_FILE, Settings, load_settings
from contracts.topics import processor_input_topics
from tests.integration.connectors.conftest import fresh_source
from tests.integration.replay.live import DashboardReader
from tests.integration.warehouse.warehouse_http import migrated
from tests.providers import free_port
from tests.support.sources import remove_source
from tests.support.waiting import wait_until
from warehouse.replay import ReplayOptions


@pytest.fixture
def pipeline(connect: Settings, clickhouse: Settings,
             unique_name: Callable[[str], str]) -> Iterator[Settings]:
    name = unique_name("replaycdc")
    settings = fresh_source(connect, name).model_copy(update={
        "clickhouse_database": name, "facts_topic": f"{name}.facts.v1",
        "heartbeat_topic": f"{name}.heartbeats", "dead_letter_topic": f"{name}.dlq",
        "metrics_topic": f"{name}.metrics", "faust_app_id": f"{name}-proc",
        "sink_group": f"{name}-sink", "faust_web_port": free_port(),
        "kafka_partitions": 1})
    seed(settings, scale=0.01, seed_value=5)
    executor = migrated(settings, name)
    manage.apply(settings, deadline_seconds=120)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    wanted = set(processor_input_topics(settings))
    wait_until(lambda: wanted <= set(admin.list_topics(timeout=5).topics),
               deadline_seconds=120, what="the connector's CDC topics")
    supervisor(settings).up(["processors", "sink"], progress=print)
    try:
        yield settings
    finally:
        after = load_settings(state_dir=settings.state_dir).model_copy(update={
            "faust_web_port": settings.faust_web_port})
        for each in (after, settings):
            supervisor(each).down(["processors", "sink"], progress=print)
        (settings.state_dir / GENERATION_FILE).unlink(missing_ok=True)
        remove_source(settings, with_connector=True)
        executor.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def test_replay_cdc_switches_to_new_facts_and_verify_passes(pipeline: Settings) -> None:
    settings = pipeline
    assert verify_until(settings, wait_seconds=300).ok  # the history went through v1

    dashboards = DashboardReader(settings)
    dashboards.start()
    sales = threading.Thread(target=run_workload, args=(settings, 17, 150))
    sales.start()
    try:
        report = replay_cdc(settings, options=ReplayOptions(show_progress=False),
                            catch_up_deadline_seconds=600)
    finally:
        sales.join()
    assert report.facts_topic == f"{settings.clickhouse_database}.facts.v2"
    assert report.facts.swapped, report.facts.problems
    assert report.facts.read.rows > 0

    current = load_settings(state_dir=settings.state_dir)
    assert current.facts_topic == report.facts_topic  # recorded for every later command
    switched = settings.model_copy(update={"facts_topic": report.facts_topic,
                                           "faust_app_id": report.faust_app_id})
    final = verify_until(switched, wait_seconds=300)
    dashboards.stop()
    assert final.ok, final.as_dict()
    assert dashboards.errors == []
    assert dashboards.answers > 0

    run_workload(settings, 18, 40)  # sold after the switch: through the new generation
    assert verify_until(switched, wait_seconds=300).ok
