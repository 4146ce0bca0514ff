"""The embedded ClickHouse server cannot be exhausted from its HTTP port (issue 16, item 3).

Each test starts a private server (`python -m warehouse.embedded`, the stack's own
command) with small limits, so the attacks never touch the session's shared ClickHouse:
credentials are checked before a byte of body is read, bodies and their decompressed
size are bounded, idle sockets time out, and connections beyond the bound are refused
at once instead of each taking a thread. Throughout, an authenticated query is answered
within a second and the process stays up. Memory is judged by the process's peak
resident size (VmHWM), which a bomb cannot hide from by freeing afterwards; the
unbounded server of the negative control shows that the measure sees a bomb.
"""

from __future__ import annotations

import base64
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import zstandard

from tests.support.embedded_server import ANSWER_SECONDS, Server, start_server
from tests.support.waiting import wait_until

MiB = 1 << 20
LIMIT_BYTES = 16 * MiB
BOMB_BYTES = 512 * MiB
SOCKET_TIMEOUT_SECONDS = 2.0
MAX_CONNECTIONS = 230
SLOW_CONNECTIONS = 200
AUTHENTICATION_FAILED = 516
TOO_MANY_BYTES = 307
TOO_MANY_SIMULTANEOUS_QUERIES = 202


def limited_server(tmp: Path, max_request_bytes: int) -> Iterator[Server]:
    return start_server(tmp, limits=(
        "--max-request-bytes", str(max_request_bytes),
        "--socket-timeout", str(SOCKET_TIMEOUT_SECONDS),
        "--max-connections", str(MAX_CONNECTIONS)))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from limited_server(tmp_path_factory.mktemp("limited"), LIMIT_BYTES)


def raw_exchange(port: int, head: bytes, body: bytes = b"", *, wait: float = 5.0) -> bytes:
    """Send a request head (and some body) on a fresh socket; return what the server
    sends back before it closes or `wait` seconds pass."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(head + body)
        received = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received and len(received.split(b"\r\n\r\n", 1)[1]) >= \
                    content_length(received):
                break
        return received


def content_length(response: bytes) -> int:
    for line in response.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def exception_code(response: bytes) -> int | None:
    for line in response.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-clickhouse-exception-code":
            return int(value)
    return None


def basic(user: str, password: str) -> bytes:
    return b"Authorization: Basic " + base64.b64encode(f"{user}:{password}".encode()) + b"\r\n"


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes, gzip-compressed in 1 MiB steps (about 1/1000 of the size)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MiB)
    return b"".join(compressor.compress(zeros) for _ in range(size // MiB)) + \
        compressor.flush()


def zstd_bomb(size: int) -> bytes:
    compressor = zstandard.ZstdCompressor().compressobj()
    zeros = bytes(MiB)
    return b"".join(compressor.compress(zeros) for _ in range(size // MiB)) + \
        compressor.flush()


def test_an_unauthenticated_huge_body_is_refused_before_it_is_read(server: Server) -> None:
    before = server.peak_rss_bytes()
    for credentials in (b"", basic("writer", "wrong"), basic("nobody", "x")):
        for framing in (b"Content-Length: 100000000000\r\n", b"Transfer-Encoding: chunked\r\n"):
            began = time.monotonic()
            response = raw_exchange(server.port, b"POST / HTTP/1.1\r\nHost: x\r\n" + credentials
                                    + framing + b"\r\n", b"SELECT 1 " * 100)
            assert exception_code(response) == AUTHENTICATION_FAILED, response[:300]
            assert b"Connection: close" in response
            assert time.monotonic() - began < SOCKET_TIMEOUT_SECONDS  # did not wait for it
    assert server.peak_rss_bytes() - before < 32 * MiB
    server.assert_alive_and_answering()


def test_an_authenticated_body_over_the_limit_is_refused(server: Server) -> None:
    response = raw_exchange(server.port, b"POST / HTTP/1.1\r\nHost: x\r\n" + basic(*server.auth)
                            + f"Content-Length: {LIMIT_BYTES + 1}\r\n\r\n".encode(), b"SELECT")
    assert exception_code(response) == TOO_MANY_BYTES, response[:300]
    assert response.startswith(b"HTTP/1.1 413")
    assert b"BOXOFFICE_CLICKHOUSE_MAX_REQUEST_BYTES" in response
    chunked = requests.post(server.url, auth=server.auth, timeout=30,
                            data=(bytes(MiB) for _ in range(LIMIT_BYTES // MiB + 2)))
    assert chunked.headers.get("X-ClickHouse-Exception-Code") == str(TOO_MANY_BYTES)
    server.assert_alive_and_answering()


@pytest.mark.parametrize(("encoding", "bomb"), [("gzip", gzip_bomb), ("zstd", zstd_bomb)])
def test_a_compression_bomb_is_stopped_at_the_limit(server: Server, encoding: str,
                                                    bomb: object) -> None:
    body = bomb(BOMB_BYTES)  # type: ignore[operator]
    assert len(body) < LIMIT_BYTES  # the compressed body itself is allowed in
    before = server.peak_rss_bytes()
    response = requests.post(server.url, data=body, auth=server.auth, timeout=60,
                             headers={"Content-Encoding": encoding})
    assert response.headers.get("X-ClickHouse-Exception-Code") == str(TOO_MANY_BYTES), \
        response.text[:300]
    assert server.peak_rss_bytes() - before < 4 * LIMIT_BYTES
    server.assert_alive_and_answering()


def test_a_compressed_body_within_the_limit_is_accepted(server: Server) -> None:
    """Positive control: the limit, not compression itself, refuses the bombs."""
    sql = b"SELECT 1" + b" " * (LIMIT_BYTES // 2)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    response = requests.post(server.url, auth=server.auth, timeout=60,
                             data=compressor.compress(sql) + compressor.flush(),
                             headers={"Content-Encoding": "gzip"},
                             params={"max_query_size": str(LIMIT_BYTES)})
    assert response.status_code == 200 and response.text == "1\n", response.text[:300]


def test_the_bomb_measure_sees_an_unbounded_server(tmp_path: Path) -> None:
    """Negative control: with the limit above the bomb, the same bomb costs the server
    at least its decompressed size in peak memory, so the bound above is what held."""
    for unbounded in limited_server(tmp_path, 2 * BOMB_BYTES):
        before = unbounded.peak_rss_bytes()
        requests.post(unbounded.url, data=gzip_bomb(BOMB_BYTES), auth=unbounded.auth,
                      timeout=120, headers={"Content-Encoding": "gzip"})
        assert unbounded.peak_rss_bytes() - before > BOMB_BYTES // 2


def test_slow_connections_neither_crash_it_nor_starve_a_query(server: Server) -> None:
    slow: list[socket.socket] = []
    try:
        for _ in range(SLOW_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")  # and never the rest
            slow.append(sock)
        for _ in range(5):
            server.assert_alive_and_answering()
            time.sleep(0.2)
        # The idle ones are cut after the socket timeout and their slots come back.
        time.sleep(SOCKET_TIMEOUT_SECONDS + 1)
        closed = 0
        for sock in slow:
            try:
                closed += sock.recv(1) == b""
            except OSError:
                closed += 1
        assert closed == SLOW_CONNECTIONS
    finally:
        for sock in slow:
            sock.close()
    server.assert_alive_and_answering()


def test_connections_beyond_the_bound_are_refused_at_once(server: Server) -> None:
    held: list[socket.socket] = []
    try:
        for _ in range(MAX_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            held.append(sock)
        wait_until(lambda: exception_code(raw_exchange(
            server.port, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", wait=3))
            == TOO_MANY_SIMULTANEOUS_QUERIES, deadline_seconds=10, poll=0.1,
            what="a connection beyond the bound refused with a 503")
    finally:
        for sock in held:
            sock.close()
    wait_until(lambda: server.query_seconds() < ANSWER_SECONDS, deadline_seconds=
               SOCKET_TIMEOUT_SECONDS + 5, poll=0.2, what="queries answered again")
