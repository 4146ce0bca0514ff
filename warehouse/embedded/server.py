"""ClickHouse's HTTP interface over the embedded engine: a threaded HTTP/1.1 server.

Each connection runs on its own thread and each request on its own chdb connection, so
slow queries do not hold up health checks or other clients. Anyone on the machine can
reach the port, so nothing a stranger sends may cost more than a thread for a bounded
time: credentials are checked from the URL and headers before a byte of the body is
read, bodies are bounded before and after decompression, a silent socket is closed after
the socket timeout, and connections beyond the bound are answered 503 at once instead of
each taking a thread (`ServerLimits`, from the BOXOFFICE_CLICKHOUSE_* settings).

Only errors are logged (code, name, message; never the query's data), one line each, to
stdout, which the supervisor writes to the component's log file.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from warehouse.embedded.engine import Outcome
from warehouse.embedded.errors import (
    BAD_ARGUMENTS,
    TOO_MANY_SIMULTANEOUS_QUERIES,
    UNKNOWN_EXCEPTION,
    ClickHouseError,
)
from warehouse.embedded.protocol import credentials, parse_request, too_large
from warehouse.embedded.service import QueryService

_CONTENT_TYPES = {
    "TabSeparated": "text/tab-separated-values; charset=UTF-8",
    "TSV": "text/tab-separated-values; charset=UTF-8",
    "TabSeparatedWithNames": "text/tab-separated-values; charset=UTF-8",
    "TabSeparatedWithNamesAndTypes": "text/tab-separated-values; charset=UTF-8",
    "CSV": "text/csv; charset=UTF-8; header=absent",
    "CSVWithNames": "text/csv; charset=UTF-8; header=present",
    "JSON": "application/json; charset=UTF-8",
    "JSONCompact": "application/json; charset=UTF-8",
    "JSONEachRow": "application/x-ndjson; charset=UTF-8",
    "Pretty": "text/plain; charset=UTF-8",
}
_MAX_LOGGED_MESSAGE = 500


def log(line: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    sys.stdout.write(f"{stamp} {line}\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class ServerLimits:
    """What one client may cost the server (defaults as the settings' defaults)."""

    max_request_bytes: int = 256 * 1024 * 1024
    socket_timeout_seconds: float = 30.0
    max_connections: int = 1024


class EmbeddedClickHouseServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], service: QueryService,
                 limits: ServerLimits | None = None) -> None:
        self.service = service
        self.limits = limits or ServerLimits()
        self.display_name = socket.gethostname()
        self._slots = threading.BoundedSemaphore(self.limits.max_connections)
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread per connection while slots last; beyond, a 503 without a thread."""
        if not self._slots.acquire(blocking=False):
            self._refuse_busy(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse_busy(self, request: socket.socket) -> None:
        error = ClickHouseError(
            TOO_MANY_SIMULTANEOUS_QUERIES,
            f"Too many simultaneous connections (max {self.limits.max_connections}); retry "
            "later or raise BOXOFFICE_CLICKHOUSE_MAX_CONNECTIONS")
        body = error.body(self.service.engine.version).encode()
        head = (f"HTTP/1.1 {error.http_status} Service Unavailable\r\n"
                f"X-ClickHouse-Exception-Code: {error.code}\r\n"
                "Content-Type: text/plain; charset=UTF-8\r\nConnection: close\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(head + body)
        self.shutdown_request(request)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmbeddedClickHouseServer
    server_version = "ClickHouse-embedded"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.limits.socket_timeout_seconds)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request access log; errors are logged by _fail."""

    # --- routing ------------------------------------------------------------------------
    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        has_body = self._has_body()
        if url.path in ("/ping", "/replicas_status") or (
            url.path == "/" and self.command in ("GET", "HEAD") and not has_body
            and "query=" not in url.query
        ):
            self.close_connection |= has_body  # its body stays unread
            self._send(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
            return
        if url.path != "/":
            self.close_connection |= has_body
            error = ClickHouseError(UNKNOWN_EXCEPTION, f"There is no handle {url.path}")
            self._send(404, error.body(self._version).encode(), self._error_headers(error, None))
            return
        query_id = user = None
        try:
            user, password = credentials(url.query, dict(self.headers.items()))
            try:
                self.server.service.authenticator.authenticate(user, password)
                body = self._read_body()
            except ClickHouseError:
                self.close_connection = True  # the body is not read: the stream is lost
                raise
            request = parse_request(self.command, url.query, dict(self.headers.items()), body,
                                    max_bytes=self.server.limits.max_request_bytes)
            query_id = request.query_id or str(uuid.uuid4())
            outcome = self.server.service.handle(request)
        except ClickHouseError as error:
            self._fail(error, query_id, user)
            return
        except Exception as error:  # the engine or this server broke: still answer
            self._fail(ClickHouseError(UNKNOWN_EXCEPTION, f"{type(error).__name__}: {error}"),
                       query_id, user)
            return
        self._succeed(outcome, query_id)

    # --- responses ----------------------------------------------------------------------
    @property
    def _version(self) -> str:
        return self.server.service.engine.version

    def _common_headers(self, query_id: str | None) -> dict[str, str]:
        headers = {
            "X-ClickHouse-Server-Display-Name": self.server.display_name,
            "X-ClickHouse-Timezone": self.server.service.engine.timezone,
        }
        if query_id:
            headers["X-ClickHouse-Query-Id"] = query_id
        return headers

    def _succeed(self, outcome: Outcome, query_id: str | None) -> None:
        headers = self._common_headers(query_id)
        headers["X-ClickHouse-Format"] = outcome.format
        headers["X-ClickHouse-Summary"] = json.dumps(outcome.summary, separators=(",", ":"))
        headers["Content-Type"] = _CONTENT_TYPES.get(outcome.format, "application/octet-stream")
        self._send(200, outcome.body, headers)

    def _error_headers(self, error: ClickHouseError, query_id: str | None) -> dict[str, str]:
        headers = self._common_headers(query_id)
        headers["X-ClickHouse-Exception-Code"] = str(error.code)
        headers["Content-Type"] = "text/plain; charset=UTF-8"
        return headers

    def _fail(self, error: ClickHouseError, query_id: str | None, user: str | None) -> None:
        message = error.message.replace("\n", " ")[:_MAX_LOGGED_MESSAGE]
        log(f"error {self.command} user={user} query_id={query_id} "
            f"code={error.code} {error.name}: {message}")
        self._send(error.http_status, error.body(self._version).encode(),
                   self._error_headers(error, query_id))

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        else:
            timeout = int(self.server.limits.socket_timeout_seconds)
            self.send_header("Keep-Alive", f"timeout={timeout}")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # --- request bodies -----------------------------------------------------------------
    def _has_body(self) -> bool:
        return (self.headers.get("Transfer-Encoding", "").lower() == "chunked"
                or self.headers.get("Content-Length", "0").strip() not in ("", "0"))

    def _read_body(self) -> bytes:
        """The body, refused before it is read when its length is over the limit, and
        as soon as a chunked one passes it."""
        limit = self.server.limits.max_request_bytes
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ClickHouseError(BAD_ARGUMENTS, "Content-Length is not a number") from None
        if length > limit:
            raise too_large(limit, "is")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(65537)
            try:
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                raise ClickHouseError(BAD_ARGUMENTS, "Malformed chunk size") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > limit:
                raise too_large(limit, "is")
            parts.append(self.rfile.read(size))
            self.rfile.readline(65537)  # the CRLF closing the chunk
