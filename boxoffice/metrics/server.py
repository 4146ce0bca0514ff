"""`/metrics` over HTTP, behind basic auth, for Prometheus to scrape.

Each scrape runs the status probes (bounded by their 4 s deadline) and feeds the hop
histograms, so the figures are those `boxoffice status` would print at that moment.
Scrapes are served one at a time: Prometheus asks every 15 s by default, and a second
scraper would only double the work the source, Kafka and ClickHouse are asked for.
Connections time out, so a client that never finishes its request cannot hold the
endpoint.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from boxoffice.metrics.families import status_families, verify_families
from boxoffice.metrics.hops import HopHistograms
from boxoffice.status.collect import collect_status
from boxoffice.status.freshness import reader_client
from boxoffice.verify.last import last_verify
from contracts.settings import Settings

log = logging.getLogger("boxoffice.metrics")

SOCKET_TIMEOUT_SECONDS = 10.0
PATH = "/metrics"


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
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector(settings))
    return registry


StartResponse = Callable[..., Any]


def metrics_app(registry: CollectorRegistry, user: str, password: str
                ) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The WSGI app: `GET /metrics` with the right basic-auth credentials, else 401/404.
    The credentials are checked before anything is collected."""
    expected = f"{user}:{password}".encode()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not _authorised(environ.get("HTTP_AUTHORIZATION", ""), expected):
            start_response("401 Unauthorized", [
                ("WWW-Authenticate", 'Basic realm="boxoffice metrics"'),
                ("Content-Type", "text/plain")])
            return [b"credentials required: the metrics user and password from settings\n"]
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"only GET {PATH} is served here\n".encode()]
        body = generate_latest(registry)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return app


def _authorised(header: str, expected: bytes) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, expected)


class _QuietHandler(WSGIRequestHandler):
    timeout = SOCKET_TIMEOUT_SECONDS

    def log_message(self, format: str, *args: Any) -> None:
        return None  # one line per scrape would drown the log


def metrics_server(settings: Settings, *, port: int | None = None) -> WSGIServer:
    """A server bound to `bind_host` and `metrics_port` (or `port`); serve_forever() it."""
    app = metrics_app(registry_for(settings), settings.metrics_user,
                      settings.secret("metrics_password"))
    return make_server(settings.bind_host, settings.metrics_port if port is None else port,
                       app, handler_class=_QuietHandler)
