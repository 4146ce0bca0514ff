"""A whole pipeline whose every name is a test's own, on the session's shared services.

The session's PostgreSQL, Kafka, Connect and ClickHouse serve many tests, so a test that
runs the whole pipeline gets its own source database, slot, publication, connector,
topic prefix, facts / heartbeat / dead-letter topics, processors' app id, sink group and
ClickHouse database. Its processors and sink are stopped, and its databases, connector
and slot dropped, by `remove()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from boxoffice import pipeline
from boxoffice.stack.components import pipeline_components
from boxoffice.stack.supervisor import Supervisor
from contracts.settings import Settings
from tests.support.sources import admin_connection, remove_source
from warehouse.executor import connect as clickhouse


def isolated(base: Settings, name: str) -> Settings:
    """Settings whose every name (database, slot, topics, groups) is the suite's own."""
    return base.model_copy(update={
        "postgres_db": name, "publication_name": f"{name}_pub", "slot_name": f"{name}_slot",
        "connector_name": f"{name}-source", "topic_prefix": name,
        "facts_topic": f"{name}.facts", "heartbeat_topic": f"{name}.heartbeats",
        "dead_letter_topic": f"{name}.deadletter", "metrics_topic": f"{name}.metrics",
        "faust_app_id": f"{name}-processors", "sink_group": f"{name}-sink",
        "clickhouse_database": name,
    })


@dataclass
class IsolatedPipeline:
    settings: Settings
    supervisor: Supervisor
    say: Callable[[str], None] = print

    @classmethod
    def create(cls, base: Settings, name: str, say: Callable[[str], None] = print) -> Self:
        """The suite's settings and database; `up()` brings the pipeline up on them."""
        settings = isolated(base, name)
        conn = admin_connection(base)
        with conn.cursor() as cur:
            cur.execute(f'create database "{name}"')
        conn.close()
        return cls(settings=settings, supervisor=pipeline.supervisor(settings), say=say)

    def up(self) -> None:
        # The session fixtures already run the services (natively or in containers).
        for step in pipeline.up_steps(self.settings, self.say, start_services=False):
            if step.title != "superset":  # dashboards stay pointed at the session's data
                self.say(f"up: {step.title}")
                step.run()

    def remove(self) -> None:
        """Stop the suite's processors and sink; drop its connector, slot and databases."""
        s = self.settings
        names = [c.name for c in pipeline_components(s)]
        self.supervisor.down(names, progress=self.say)
        remove_source(s, with_connector=True)
        client = clickhouse(s)
        try:
            client.command(f"DROP DATABASE IF EXISTS {s.clickhouse_database}")
        finally:
            client.close()
