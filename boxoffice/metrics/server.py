"""`/metrics` over HTTP, behind basic auth, for Prometheus to scrape.

Each scrape runs the status probes (bounded by their 4 s deadline) and feeds the hop
histograms, so the figures are those `boxoffice status` would print at that moment.
Scrapes are served one at a time: Prometheus asks every 15 s by default, and a second
scraper would only double the work the source, Kafka and ClickHouse are asked for.
Connections time out, so a client that never finishes its request cannot hold the
endpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from boxoffice.metrics.families import status_families, verify_families
from boxoffice.metrics.hops import HopHistograms
from boxoffice.status.collect import collect_status
from boxoffice.status.freshness import reader_client
from boxoffice.verify.last import last_verify
from contracts.metrics_http import metrics_server, registry_of
from contracts.settings import Settings

log = logging.getLogger("boxoffice.metrics")


class PipelineCollector(Collector):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hops = HopHistograms(registry=None)

    def collect(self) -> Iterator[Metric]:
        yield from status_families(collect_status(self.settings))
        yield from verify_families(last_verify(self.settings))
        self._update_hops()
        yield from self.hops.histogram.collect()

    def _update_hops(self) -> None:
        try:
            client = reader_client(self.settings)
            try:
                self.hops.update(client, self.settings.clickhouse_database)
            finally:
                client.close()
        except Exception as exc:  # ClickHouse away: the histograms wait for the next scrape
            log.warning("hop latencies not updated: ClickHouse did not answer (%s)",
                        " ".join(str(exc).split())[:200])


def registry_for(settings: Settings) -> CollectorRegistry:
    return registry_of(PipelineCollector(settings))


def pipeline_metrics_server(settings: Settings, *, port: int | None = None) -> WSGIServer:
    """A server bound to `bind_host` and `metrics_port` (or `port`); serve_forever() it."""
    return metrics_server(settings, registry_for(settings),
                          settings.metrics_port if port is None else port)
