"""A worker's and a sink process's own /metrics families: names, labels and values as
their counters hold them (pure logic; the endpoints are scraped in tests/e2e)."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from stream_processors.metrics import Metrics
from stream_processors.prometheus import worker_registry
from warehouse.sink.metrics import SinkMetrics
from warehouse.sink.prometheus import sink_registry


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text.decode())
            for s in family.samples}


def test_a_worker_reports_its_counters_lag_and_stops_under_its_name() -> None:
    metrics = Metrics(worker="app-1", facts_out=40, pending_joins=3, dead_letters=2)
    metrics.lag_by_partition = {"festival.tickets[0]": 7}
    metrics.table_stopped("festival.venues[0]", {"fix": "map the column"})
    found = samples(generate_latest(worker_registry(metrics)))
    worker = (("worker", "app-1"),)
    assert found[("boxoffice_processors_facts_out_total", worker)] == 40
    assert found[("boxoffice_processors_dead_letters_total", worker)] == 2
    assert found[("boxoffice_processors_pending_joins", worker)] == 3
    assert found[("boxoffice_processors_stopped_tables", worker)] == 1
    assert found[("boxoffice_processors_consumer_lag_records",
                  (("partition", "festival.tickets[0]"), ("worker", "app-1")))] == 7


def test_a_sink_process_reports_rows_by_table_and_clickhouse_under_its_index() -> None:
    metrics = SinkMetrics()
    found = samples(generate_latest(sink_registry(metrics, 1)))
    sink = (("sink", "1"),)
    assert ("boxoffice_sink_process_seconds_since_last_batch", sink) not in found
    metrics.record_flush({"fact_ticket_sales": 5, "heartbeats": 1}, batches=2, dead=1,
                         seconds=0.5)
    metrics.clickhouse_up = False
    found = samples(generate_latest(sink_registry(metrics, 1)))
    assert found[("boxoffice_sink_process_rows_total",
                  (("sink", "1"), ("table", "fact_ticket_sales")))] == 5
    assert found[("boxoffice_sink_process_batches_total", sink)] == 2
    assert found[("boxoffice_sink_process_dead_letters_total", sink)] == 1
    assert found[("boxoffice_sink_process_rows_per_second", sink)] == 12
    assert found[("boxoffice_sink_process_clickhouse_up", sink)] == 0
    assert 0 <= found[("boxoffice_sink_process_seconds_since_last_batch", sink)] < 5
