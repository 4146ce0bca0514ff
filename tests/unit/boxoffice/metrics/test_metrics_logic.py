"""The Prometheus endpoint's own logic: credentials first, families from a status report,
each heartbeat observed once. (Scraped against the real pipeline in
tests/e2e/test_metrics.py.)"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

from boxoffice.metrics.families import status_families, verify_families
from boxoffice.metrics.hops import HopHistograms
from boxoffice.status.model import OK, UNHEALTHY, Section, StatusReport
from boxoffice.verify.last import LastVerify
from contracts.metrics_http import metrics_app


class CountingCollector:
    def __init__(self) -> None:
        self.collected = 0

    def collect(self) -> Iterator[Metric]:
        self.collected += 1
        yield GaugeMetricFamily("boxoffice_probe", "a probe", value=1.0)


def call(app: Any, *, path: str = "/metrics", auth: str | None = None) -> tuple[str, bytes]:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    if auth is not None:
        environ["HTTP_AUTHORIZATION"] = auth
    status: list[str] = []
    body = b"".join(app(environ, lambda s, _headers: status.append(s)))
    return status[0], body


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_are_checked_before_anything_is_collected() -> None:
    registry = CollectorRegistry()
    collector = CountingCollector()
    registry.register(collector)  # type: ignore[arg-type]
    app = metrics_app(registry, "prometheus", "s3cret")
    for auth in (None, basic("prometheus", "wrong"), basic("other", "s3cret"),
                 "Bearer s3cret", "Basic !!!not-base64"):
        status, _ = call(app, auth=auth)
        assert status.startswith("401"), auth
    assert call(app, path="/other", auth=basic("prometheus", "s3cret"))[0].startswith("404")
    assert collector.collected == 0  # refused requests never reach the probes
    status, body = call(app, auth=basic("prometheus", "s3cret"))
    assert status.startswith("200")
    assert b"boxoffice_probe 1.0" in body
    assert collector.collected == 1


def report(*sections: Section) -> StatusReport:
    return StatusReport(sections=list(sections), collected_at=0.0, seconds=0.1)


def test_a_status_report_becomes_gauges_and_unknown_values_are_left_out() -> None:
    families = {f.name: f for f in status_families(report(
        Section("freshness", OK, "", {"freshness_seconds": 0.8}),
        Section("consumer_lag", OK, "", {"groups": {
            "sink": {"group": "boxoffice-sink", "lag": 12},
            "processors": {"group": "boxoffice-processors", "lag": 3}}}),
        Section("processors", OK, "", {"pending_joins": 4}),
        Section("dead_letters", OK, "", {"by_stage": {"sink": 2, "processors": 1}}),
        Section("connector", UNHEALTHY, "", {"slot": {"retained_wal_bytes": None}}),
        Section("sink", OK, "", {"rows_per_second": 1500, "rows_total": 90_000}),
    ))}

    def value(name: str, **labels: str) -> float:
        return next(s.value for s in families[name].samples if s.labels == labels)
    assert value("boxoffice_section_healthy", section="connector") == 0.0
    assert value("boxoffice_section_healthy", section="sink") == 1.0
    assert value("boxoffice_freshness_seconds") == 0.8
    assert value("boxoffice_consumer_lag_records", group="boxoffice-sink") == 12
    assert value("boxoffice_pending_joins") == 4
    assert value("boxoffice_dead_letters", origin="processors") == 1
    assert value("boxoffice_sink_rows_per_second") == 1500
    assert value("boxoffice_sink_rows") == 90_000
    assert "boxoffice_slot_retained_wal_bytes" not in families  # unknown: no false 0


def test_the_last_verify_is_reported_once_there_is_one() -> None:
    assert list(verify_families(None)) == []
    families = {f.name: f for f in verify_families(LastVerify(False, 1_800_000_000.0, ["x"]))}
    assert families["boxoffice_verify_ok"].samples[0].value == 0.0
    assert families["boxoffice_verify_last_run_timestamp_seconds"].samples[0].value == \
        1_800_000_000.0


class Heartbeats:
    """Rows as ClickHouse returns them: (source, partition, cdc, processed, stored) ms."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, int]] = []

    def query(self, _sql: str) -> SimpleNamespace:
        return SimpleNamespace(result_rows=list(self.rows))


def test_each_heartbeat_is_observed_once_per_hop() -> None:
    now = [1_000.0]
    hops = HopHistograms(registry=None, clock=lambda: now[0])
    heartbeats = Heartbeats()
    heartbeats.rows = [(999_000, 0, 999_200, 999_400, 999_900),
                       (999_000, 1, -1, 999_300, 1_000_050)]
    assert hops.update(heartbeats, "db") == 2
    now[0] += 1
    heartbeats.rows.append((1_000_000, 0, 1_000_100, 1_000_200, 1_000_300))
    assert hops.update(heartbeats, "db") == 1  # the two seen are not observed again
    text = b"".join(_exposition(hops)).decode()
    counts = {s.labels["hop"]: s.value for f in text_string_to_metric_families(text)
              for s in f.samples if s.name.endswith("_count")}
    assert counts == {"kafka": 2.0, "fact": 3.0, "stored": 3.0}  # no CDC time: no kafka


def _exposition(hops: HopHistograms) -> Iterator[bytes]:
    from prometheus_client import generate_latest

    registry = CollectorRegistry()
    registry.register(hops.histogram)
    yield generate_latest(registry)
