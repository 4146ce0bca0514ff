"""The replay tests' two set-ups: a sink scenario (the test's own facts topic and
database, the real sink under the supervisor, no source), and a whole pipeline (a seeded
source of its own, Debezium, the processors and the sink under the real supervisor)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from boxoffice.pipeline import supervisor
from boxoffice.replay.control import ProcessControl
from contracts.settings import GENERATION_FILE, Settings, load_settings
from tests.integration.replay.live import supervised_sink
from tests.integration.warehouse.sink_scenario import Scenario
from tests.support.seeded import seeded_capture
from tests.support.sources import remove_source


@pytest.fixture
def pipeline(connect: Settings, clickhouse: Settings,
             unique_name: Callable[[str], str]) -> Iterator[Settings]:
    name = unique_name("replaycdc")
    settings, executor = seeded_capture(connect, name, seed_value=5,
                                         facts_topic=f"{name}.facts.v1")
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


@pytest.fixture
def running(kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str]
            ) -> Iterator[tuple[Scenario, ProcessControl]]:
    """A sink scenario whose sink runs; its database and any shadow a replay left
    (a killed one leaves its shadow) are dropped afterwards."""
    scenario = Scenario.create(clickhouse, unique_name, batch_rows=1000)
    sink = supervised_sink(scenario.settings)
    sink.start()
    database = scenario.settings.clickhouse_database
    try:
        yield scenario, sink
    finally:
        sink.supervisor.down(["sink"], progress=print)
        for (name,) in scenario.executor.rows(
                f"SELECT name FROM system.databases WHERE name = '{database}' "
                f"OR name LIKE '{database}_shadow_%'"):
            scenario.executor.command(f"DROP DATABASE IF EXISTS {name} SYNC")
