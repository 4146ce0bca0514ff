"""The Prometheus endpoint against the real pipeline: credentials required, and the values
are those `boxoffice status` reports (docs/operations.md, 'Prometheus metrics').

Scraped twice, a few heartbeats apart, with the pipeline reconciled and idle: dead letters
per origin and pending joins equal status's; the sink's row counter and the hop
histograms only grow between the scrapes; every hop has observations; the last verify is
the one `seeded_and_exact` just ran. Then each processors worker and sink process is
scraped on its own port.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from boxoffice.metrics.server import pipeline_metrics_server
from boxoffice.status.collect import collect_status
from contracts.metrics_http import PATH
from contracts.settings import Settings
from tests.e2e.flow import seeded_and_exact
from tests.support.waiting import wait_until

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def endpoint(running_pipeline: Settings) -> Iterator[str]:
    server = pipeline_metrics_server(running_pipeline)  # the test settings' own free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}{PATH}"
    server.shutdown()
    server.server_close()


def scrape(settings: Settings, url: str) -> Samples:
    response = requests.get(url, auth=(settings.metrics_user,
                                       settings.secret("metrics_password")), timeout=30)
    assert response.status_code == 200, response.text[:300]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def hop_count(samples: Samples, hop: str) -> float:
    return value(samples, "boxoffice_hop_latency_seconds_count", hop=hop)


def test_metrics_require_credentials_and_agree_with_status(
        running_pipeline: Settings, endpoint: str) -> None:
    settings = running_pipeline
    seeded_and_exact(settings, seed_value=41)
    verified_by = time.time()

    assert requests.get(endpoint, timeout=10).status_code == 401
    assert requests.get(endpoint, auth=(settings.metrics_user, "wrong"),
                        timeout=10).status_code == 401

    before = collect_status(settings)
    first = scrape(settings, endpoint)
    second = wait_until(
        lambda: (s := scrape(settings, endpoint)) and
        hop_count(s, "stored") > hop_count(first, "stored") and s,
        deadline_seconds=60, poll=2.0, what="a heartbeat stored after the first scrape")
    after = collect_status(settings)

    for section in before.sections:
        if section.healthy and after.section(section.name).healthy:
            assert value(second, "boxoffice_section_healthy", section=section.name) == 1.0
    for origin, count in before.section("dead_letters").data["by_stage"].items():
        assert value(second, "boxoffice_dead_letters", origin=origin) == count
    assert value(second, "boxoffice_pending_joins") == \
        after.section("processors").data["pending_joins"]
    assert before.section("sink").data["rows_total"] <= value(first, "boxoffice_sink_rows_total") \
        <= value(second, "boxoffice_sink_rows_total") <= after.section("sink").data["rows_total"]
    for group in (settings.sink_group, settings.faust_app_id):
        assert value(second, "boxoffice_consumer_lag_records", group=group) >= 0
    assert value(second, "boxoffice_slot_retained_wal_bytes") > 0
    assert 0 <= value(second, "boxoffice_freshness_seconds") < 30
    assert value(second, "boxoffice_verify_ok") == 1.0
    assert value(second, "boxoffice_verify_last_run_timestamp_seconds") <= verified_by
    for hop in ("kafka", "fact", "stored"):
        assert hop_count(second, hop) >= hop_count(first, hop) > 0
        mean = value(second, "boxoffice_hop_latency_seconds_sum", hop=hop) / \
            hop_count(second, hop)
        assert 0 <= mean < 30, (hop, mean)
    each_worker_and_sink_process_serves_its_own_metrics(settings)


def each_worker_and_sink_process_serves_its_own_metrics(settings: Settings) -> None:
    """Every processors worker and every sink process answers /metrics on its own port
    (base + index), behind the same credentials, with numbers that fall between two
    status readings."""
    host = settings.bind_host
    workers = [f"http://{host}:{settings.processors_metrics_port + i}{PATH}"
               for i in range(settings.faust_workers)]
    sinks = [f"http://{host}:{settings.sink_metrics_port + i}{PATH}"
             for i in range(settings.sink_processes)]
    for url in workers + sinks:
        assert requests.get(url, timeout=10).status_code == 401, url

    before = collect_status(settings)
    scraped = [scrape(settings, url) for url in workers + sinks]
    after = collect_status(settings)
    merged: Samples = {key: v for samples in scraped for key, v in samples.items()}

    def total(name: str) -> float:
        return sum(v for (n, _), v in merged.items() if n == name)

    assert total("boxoffice_processors_facts_out_total") > 0  # the history went through
    assert total("boxoffice_processors_pending_joins") == \
        after.section("processors").data["pending_joins"]
    assert total("boxoffice_processors_stopped_tables") == 0
    assert before.section("sink").data["rows_total"] \
        <= total("boxoffice_sink_process_rows_total") \
        <= after.section("sink").data["rows_total"]
    assert total("boxoffice_sink_process_clickhouse_up") == settings.sink_processes
