"""A sink process's own numbers for Prometheus (`/metrics` on `sink_metrics_port` plus the
sink index): what its metrics file holds, labelled by process, so a scrape tells which
sink is stuck on ClickHouse or stopped a table. Listed in docs/operations.md
('Prometheus metrics')."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from contracts.metrics_http import registry_of
from warehouse.sink.metrics import SinkMetrics


class SinkCollector(Collector):
    def __init__(self, metrics: SinkMetrics, index: int) -> None:
        self.metrics = metrics
        self.label = [str(index)]

    def collect(self) -> Iterator[Metric]:
        m, label = self.metrics, self.label
        rows = CounterMetricFamily("boxoffice_sink_process_rows",
                                   "Rows this sink process stored, by table",
                                   labels=["sink", "table"])
        for table, count in dict(m.rows_by_table).items():
            rows.add_metric([*label, table], float(count))
        yield rows
        for name, documentation, value in (
                ("batches", "Batches this sink process inserted", m.batches_total),
                ("dead_letters", "Records this sink process sent to the dead-letter topic",
                 m.dead_letters_total),
                ("insert_retries", "Inserts retried while ClickHouse did not answer",
                 m.insert_retries_total)):
            family = CounterMetricFamily(f"boxoffice_sink_process_{name}", documentation,
                                         labels=["sink"])
            family.add_metric(label, float(value))
            yield family
        gauges: tuple[tuple[str, str, float | None], ...] = (
                ("rows_per_second", "Rows per second of this sink process's last flush",
                 m.rows_per_second),
                ("clickhouse_up", "1 while this sink process's inserts succeed",
                 1.0 if m.clickhouse_up else 0.0),
                ("stopped_tables", "CDC partitions this sink process stopped on a source "
                 "schema change (`boxoffice status` names the fix)", len(m.stopped_tables)),
                ("seconds_since_last_batch", "Seconds since this sink process last stored "
                 "rows (absent before its first)",
                 None if m.last_batch_at is None else time.time() - m.last_batch_at))
        for name, documentation, level in gauges:
            if level is None:
                continue
            gauge = GaugeMetricFamily(f"boxoffice_sink_process_{name}", documentation,
                                      labels=["sink"])
            gauge.add_metric(label, float(level))
            yield gauge


def sink_registry(metrics: SinkMetrics, index: int) -> CollectorRegistry:
    return registry_of(SinkCollector(metrics, index))
