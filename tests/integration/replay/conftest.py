"""The replay tests' whole pipeline: a seeded source of its own, Debezium, the processors
and the sink under the real supervisor, and a database of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from confluent_kafka.admin import AdminClient

from boxoffice.pipeline import supervisor
from connectors import manage
from connectors.seed import seed
from contracts.settings import GENERATION_FILE, Settings, load_settings
from contracts.topics import processor_input_topics
from tests.integration.connectors.conftest import fresh_source
from tests.integration.warehouse.warehouse_http import migrated
from tests.providers import free_port
from tests.support.sources import remove_source
from tests.support.waiting import wait_until


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
