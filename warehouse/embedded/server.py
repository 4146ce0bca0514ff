"""ClickHouse's HTTP interface over the embedded engine: a threaded HTTP/1.1 server.

Each request runs on its own thread and its own chdb connection, so slow queries do not
hold up health checks or other clients. Only errors are logged (code, name, message;
never the query's data), one line each, to stdout, which the supervisor writes to the
component's log file.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from warehouse.embedded.engine import Outcome
from warehouse.embedded.errors import UNKNOWN_EXCEPTION, ClickHouseError
from warehouse.embedded.protocol import parse_request
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


class EmbeddedClickHouseServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], service: QueryService) -> None:
        self.service = service
        self.display_name = socket.gethostname()
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmbeddedClickHouseServer
    server_version = "ClickHouse-embedded"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

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
        body = self._read_body()
        if url.path in ("/ping", "/replicas_status") or (
            url.path == "/" and self.command in ("GET", "HEAD") and not body
            and "query=" not in url.query
        ):
            self._send(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
            return
        if url.path != "/":
            error = ClickHouseError(UNKNOWN_EXCEPTION, f"There is no handle {url.path}")
            self._send(404, error.body(self._version).encode(), self._error_headers(error, None))
            return
        query_id = user = None
        try:
            request = parse_request(self.command, url.query, dict(self.headers.items()), body)
            query_id, user = request.query_id or str(uuid.uuid4()), request.user
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
        self.send_header("Keep-Alive", "timeout=30")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # --- request bodies -----------------------------------------------------------------
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = self.rfile.readline(65537)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(65537)  # the CRLF closing the chunk
