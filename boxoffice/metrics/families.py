"""One status report as Prometheus metric families.

The names and meanings are listed in docs/operations.md ('Prometheus metrics'). A value
status could not learn (a service down, a probe timed out) is left out rather than
reported as 0: an absent series alerts as "no data", a false 0 would look healthy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from boxoffice.status.model import StatusReport
from boxoffice.verify.last import LastVerify


def status_families(report: StatusReport) -> Iterator[Metric]:
    healthy = GaugeMetricFamily(
        "boxoffice_section_healthy",
        "1 when the status section is ok or warn, 0 when it is red (`boxoffice status` "
        "names the fix)", labels=["section"])
    for section in report.sections:
        healthy.add_metric([section.name], 1.0 if section.healthy else 0.0)
    yield healthy
    data = {section.name: section.data for section in report.sections}
    yield from _gauge("boxoffice_freshness_seconds",
                      "Seconds since the newest source heartbeat of the slowest join "
                      "partition was committed, as visible in ClickHouse",
                      _get(data, "freshness", "freshness_seconds"))
    lag = GaugeMetricFamily("boxoffice_consumer_lag_records",
                            "Records not yet consumed by the consumer group", labels=["group"])
    for role, group in (_get(data, "consumer_lag", "groups") or {}).items():
        if isinstance(group, dict) and isinstance(group.get("lag"), int):
            lag.add_metric([str(group.get("group", role))], float(group["lag"]))
    yield lag
    yield from _gauge("boxoffice_pending_joins",
                      "Tickets waiting in the join for their purchase or performance",
                      _get(data, "processors", "pending_joins"))
    dead = GaugeMetricFamily("boxoffice_dead_letters",
                             "Records in the dead-letter topic, by the stage that wrote them",
                             labels=["origin"])
    for origin, count in (_get(data, "dead_letters", "by_stage") or {}).items():
        dead.add_metric([str(origin)], float(count))
    yield dead
    yield from _gauge("boxoffice_slot_retained_wal_bytes",
                      "WAL the replication slot keeps at the source (restart_lsn to now)",
                      _get(data, "connector", "slot", "retained_wal_bytes"))
    yield from _gauge("boxoffice_sink_rows_per_second",
                      "Rows the sink stored per second over its recent flushes",
                      _get(data, "sink", "rows_per_second"))
    rows = _get(data, "sink", "rows_total")
    if isinstance(rows, int | float):
        total = CounterMetricFamily("boxoffice_sink_rows",
                                    "Rows the sink processes stored since they started")
        total.add_metric([], float(rows))
        yield total


def verify_families(last: LastVerify | None) -> Iterator[Metric]:
    if last is None:
        return
    yield from _gauge("boxoffice_verify_ok",
                      "1 when the last `boxoffice verify` matched PostgreSQL on every check",
                      1.0 if last.ok else 0.0)
    yield from _gauge("boxoffice_verify_last_run_timestamp_seconds",
                      "When the last `boxoffice verify` finished (Unix seconds)",
                      last.finished_at)


def _gauge(name: str, documentation: str, value: Any) -> Iterator[Metric]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        yield GaugeMetricFamily(name, documentation, value=float(value))


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data
