"""A worker's own numbers for Prometheus (`/metrics` on `processors_metrics_port` plus the
worker index): what its JSON page shows, as metric families labelled by worker, so a
scrape tells which worker lags, holds pending joins or stopped a table.
Listed in docs/operations.md ('Prometheus metrics')."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from contracts.metrics_http import registry_of
from stream_processors.metrics import Metrics

COUNTERS = (
    ("events_in", "CDC records this worker routed"),
    ("facts_out", "Signed fact rows this worker's join wrote"),
    ("duplicates", "Changes the join dropped as already applied (by LSN)"),
    ("dead_letters", "Records this worker sent to the dead-letter topic"),
    ("heartbeats", "Source heartbeats this worker routed"),
    ("rebalances", "Partition assignments this worker received"),
    ("recoveries", "Batches rolled back and retried after a Kafka failure"),
)


class WorkerCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        snapshot = self.metrics.snapshot()
        worker = [str(snapshot["worker"])]
        for name, documentation in COUNTERS:
            family = CounterMetricFamily(f"boxoffice_processors_{name}", documentation,
                                         labels=["worker"])
            family.add_metric(worker, float(snapshot[name]))
            yield family
        lag = GaugeMetricFamily("boxoffice_processors_consumer_lag_records",
                                "Records not yet read, per partition this worker owns",
                                labels=["worker", "partition"])
        for partition, records in snapshot["consumer_lag_by_partition"].items():
            lag.add_metric([*worker, partition], float(records))
        yield lag
        for name, documentation, value in (
                ("pending_joins", "Tickets waiting in this worker's join for their purchase "
                 "or performance", snapshot["pending_joins"]),
                ("stopped_tables", "CDC partitions this worker stopped on a source schema "
                 "change (`boxoffice status` names the fix)", len(snapshot["stopped_tables"])),
                ("source_went_back", "1 once a heartbeat came at a lower LSN than the one "
                 "before it: the source's WAL went back (`boxoffice status` names the fix)",
                 1 if snapshot["source_went_back"] else 0)):
            gauge = GaugeMetricFamily(f"boxoffice_processors_{name}", documentation,
                                      labels=["worker"])
            gauge.add_metric(worker, float(value))
            yield gauge


def worker_registry(metrics: Metrics) -> CollectorRegistry:
    return registry_of(WorkerCollector(metrics))
