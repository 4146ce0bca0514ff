"""The sink process with real Kafka and ClickHouse: facts, heartbeats and dimensions
arrive exactly once; invalid records go to the dead-letter topic with a reason."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

from boxoffice.settings import Settings
from tests.integration.stack.kafka_clients import drain
from tests.integration.warehouse.sink_scenario import Scenario
from tests.integration.warehouse.warehouse_http import start_sink, wait_until
from warehouse.sink.metrics import read_metrics


def test_sink_stores_everything_exactly_once(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str],
        tmp_path: Path) -> None:
    scenario = Scenario.create(clickhouse, unique_name)
    scenario.produce_facts(3000, invalid_every=500)
    scenario.produce_heartbeats(20)
    sink = start_sink(scenario.settings, tmp_path / "sink.log")
    try:
        wait_until(scenario.exact, deadline_seconds=120, what="exact aggregates")
        db = scenario.settings.clickhouse_database
        assert scenario.executor.rows(f"SELECT count() FROM {db}.heartbeats") == [(20,)]
        counts = dict((r[0], int(r[1])) for r in scenario.executor.rows(
            f"SELECT table_name, current_rows FROM {db}.dq_table_counts"))
        assert counts["bands"] == len(scenario.workload.bands)
        assert counts["performances"] == len(scenario.workload.performances)
        assert counts["people"] == 0  # snapshot, delete, tombstone
        assert scenario.executor.rows(
            f"SELECT count() FROM {db}.dq_tickets_without_band_or_venue") == [(0,)]
        letters = drain(scenario.settings, scenario.settings.dead_letter_topic,
                        count=scenario.invalid, group=unique_name("dlq-reader"))
        assert len(letters) == scenario.invalid
        first = json.loads(letters[0].value or b"{}")
        assert first["stage"] == "sink" and "missing fields" in first["reason"]
        assert first["topic"] == scenario.settings.facts_topic
        metrics = wait_until(lambda: read_metrics(scenario.settings), deadline_seconds=10,
                             what="sink metrics")
        assert metrics["dead_letters_total"] >= scenario.invalid
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=60)
    assert sink.returncode == 0, (tmp_path / "sink.log").read_text()[-3000:]
    assert scenario.exact()
