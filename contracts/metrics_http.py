"""`GET /metrics` behind basic auth: the one way every boxoffice process serves Prometheus.

The pipeline-level exporter (`boxoffice metrics serve`), each processors worker and each
sink process serve their own registry through this, with the same credentials
(`metrics_user`, `metrics_password`). The credentials are checked before anything is
collected, scrapes are served one at a time, and connections time out, so a client that
never finishes its request cannot hold the endpoint.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from contracts.settings import Settings

log = logging.getLogger("boxoffice.metrics")

SOCKET_TIMEOUT_SECONDS = 10.0
PATH = "/metrics"

StartResponse = Callable[..., Any]


def registry_of(collector: Collector) -> CollectorRegistry:
    """A registry serving exactly `collector` (no process or platform defaults)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def metrics_app(registry: CollectorRegistry, user: str, password: str
                ) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The WSGI app: `GET /metrics` with the right basic-auth credentials, else 401/404."""
    expected = f"{user}:{password}".encode()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not authorised(environ.get("HTTP_AUTHORIZATION", ""), expected):
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


def authorised(header: str, expected: bytes) -> bool:
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


def metrics_server(settings: Settings, registry: CollectorRegistry, port: int) -> WSGIServer:
    """A server for `registry` on `bind_host`:`port`; serve_forever() it."""
    app = metrics_app(registry, settings.metrics_user, settings.secret("metrics_password"))
    return make_server(settings.bind_host, port, app, handler_class=_QuietHandler)


def serve_in_background(settings: Settings, registry: CollectorRegistry, port: int,
                        *, setting: str) -> WSGIServer | None:
    """Serve `registry` from a daemon thread; None (and a warning naming `setting`) when
    the port cannot be bound: a stage's own metrics are not worth stopping its work for,
    and the pipeline-level exporter still reports it."""
    try:
        server = metrics_server(settings, registry, port)
    except OSError as exc:
        log.warning("metrics: cannot serve /metrics on %s:%s (%s); set %s to a free port "
                    "and restart to scrape this process", settings.bind_host, port,
                    exc.strerror or exc, setting)
        return None
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
