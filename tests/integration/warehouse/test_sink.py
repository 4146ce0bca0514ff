"""The sink process with real Kafka and ClickHouse: facts, heartbeats and dimensions
arrive exactly once; invalid records go to the dead-letter topic with a reason."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

from contracts.settings import Settings
from contracts.topics import cdc_topic
from tests.integration.stack.kafka_clients import drain
from tests.integration.warehouse.sink_scenario import Scenario
from tests.integration.warehouse.warehouse_http import start_sink
from tests.support.waiting import wait_until
from warehouse.sink.metrics import read_metrics
from warehouse.sink.placeholders import UNAVAILABLE_VALUE


def test_sink_stores_everything_exactly_once(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str],
        tmp_path: Path) -> None:
    scenario = Scenario.create(clickhouse, unique_name)
    scenario.produce_facts(3000, invalid_every=500)
    scenario.produce_heartbeats(20)
    sink = start_sink(scenario.settings, tmp_path / "sink.log")
    try:
        db = scenario.settings.clickhouse_database

        def heartbeats() -> int:
            return int(scenario.executor.rows(f"SELECT count() FROM {db}.heartbeats")[0][0])

        wait_until(scenario.exact, deadline_seconds=120, what="exact aggregates")
        # each partition flushes on its own timer: the heartbeats may come a flush later
        wait_until(lambda: heartbeats() >= 20, deadline_seconds=30, what="20 heartbeats")
        assert heartbeats() == 20
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
        # The dead letters are acknowledged before the flush commits its offsets, and
        # the metrics are written after that commit: wait for them to count the letters.
        def counted() -> dict[str, object] | None:
            metrics = read_metrics(scenario.settings)
            return metrics if metrics and metrics["dead_letters_total"] >= scenario.invalid \
                else None

        wait_until(counted, deadline_seconds=30, what="the sink's metrics to count the "
                   f"{scenario.invalid} dead letters")
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=60)
    assert sink.returncode == 0, (tmp_path / "sink.log").read_text()[-3000:]
    assert scenario.exact()


def _band_change(op: str, band_id: int, name: str, fee: int, lsn: int) -> bytes:
    return json.dumps({"before": None, "after": {"id": band_id, "name": name, "fee": fee},
                       "op": op, "source": {"lsn": lsn, "ts_ms": 1}, "ts_ms": 2}).encode()


def test_sink_keeps_a_toasted_name_when_debezium_sends_its_placeholder(
        kafka: Settings, clickhouse: Settings, unique_name: Callable[[str], str],
        tmp_path: Path) -> None:
    scenario = Scenario.create(clickhouse, unique_name)
    settings, db = scenario.settings, scenario.settings.clickhouse_database
    topic = cdc_topic(settings, "bands")
    long_name, band, orphan = "toasted " * 1000, 900_001, 900_002

    def latest(band_id: int) -> list[tuple[object, ...]]:
        return scenario.executor.rows(
            f"SELECT name, fee FROM {db}.dim_bands FINAL WHERE id = {band_id}")

    producer = scenario.producer()
    key = json.dumps({"id": band}).encode()
    producer.produce(topic, key=key, value=_band_change("c", band, long_name, 100, 1000))
    producer.flush(30)
    sink = start_sink(settings, tmp_path / "sink.log")
    try:
        wait_until(lambda: latest(band) == [(long_name, 100)], deadline_seconds=60,
                   what="the inserted band")
        # stored before: the value comes from ClickHouse; then the same batch
        # carries the previous value for a third change
        producer.produce(topic, key=key,
                         value=_band_change("u", band, UNAVAILABLE_VALUE, 200, 2000))
        producer.flush(30)
        wait_until(lambda: latest(band) == [(long_name, 200)], deadline_seconds=60,
                   what="the update with the name kept")
        producer.produce(topic, key=key,
                         value=_band_change("u", band, UNAVAILABLE_VALUE, 50, 3000))
        producer.produce(topic, key=json.dumps({"id": orphan}).encode(),
                         value=_band_change("u", orphan, UNAVAILABLE_VALUE, 50, 3001))
        producer.flush(30)
        wait_until(lambda: latest(band) == [(long_name, 50)], deadline_seconds=60,
                   what="the second update with the name kept")
        letters = drain(settings, settings.dead_letter_topic, count=1,
                        group=unique_name("dlq-reader"))
        reason = json.loads(letters[0].value or b"{}")["reason"]
        assert f"name of id {orphan}" in reason and UNAVAILABLE_VALUE in reason
        assert scenario.executor.rows(
            f"SELECT count() FROM {db}.dim_bands WHERE position(name, "
            f"'{UNAVAILABLE_VALUE}') > 0 OR id = {orphan}") == [(0,)]
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=60)
    assert sink.returncode == 0, (tmp_path / "sink.log").read_text()[-3000:]
