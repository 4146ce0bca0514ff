"""A test's own captured source: a seeded database of its own, its connector streaming
into topics of its own, and a migrated ClickHouse database, on the session's services.
What the suites that run processors and a sink over a real source start from."""

from __future__ import annotations

from typing import Any

from confluent_kafka.admin import AdminClient

from connectors import manage
from connectors.seed import seed
from contracts.settings import Settings
from contracts.topics import processor_input_topics
from tests.integration.connectors.conftest import fresh_source
from tests.integration.warehouse.warehouse_http import migrated
from tests.providers import free_port
from tests.support.waiting import wait_until
from warehouse.executor import ClientExecutor


def seeded_capture(connect: Settings, name: str, *, seed_value: int,
                    **overrides: Any) -> tuple[Settings, ClientExecutor]:
    """Settings named after `name` (overrides win), seeded at scale 0.01, the connector
    applied and its CDC topics present; and an executor on the migrated warehouse.
    The caller removes the source (`remove_source`) and drops the database."""
    settings = fresh_source(connect, name).model_copy(update={
        "clickhouse_database": name, "facts_topic": f"{name}.facts",
        "heartbeat_topic": f"{name}.heartbeats", "dead_letter_topic": f"{name}.dlq",
        "metrics_topic": f"{name}.metrics", "faust_app_id": f"{name}-proc",
        "sink_group": f"{name}-sink", "faust_web_port": free_port(),
        "kafka_partitions": 1, **overrides})
    seed(settings, scale=0.01, seed_value=seed_value)
    executor = migrated(settings, name)
    manage.apply(settings, deadline_seconds=120)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    wanted = set(processor_input_topics(settings))
    wait_until(lambda: wanted <= set(admin.list_topics(timeout=5).topics),
               deadline_seconds=120, what="the connector's CDC topics")
    return settings, executor
