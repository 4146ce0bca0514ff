"""A private embedded ClickHouse server for tests that attack or reconfigure it.

Started with the stack's own command (`python -m warehouse.embedded`) on a free port with
its own data directory and users file, so what a test does to it never reaches the
session's shared ClickHouse.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.providers import free_port
from tests.support.waiting import wait_until
from warehouse.embedded.users import User, hash_password, write_users_file

ANSWER_SECONDS = 1.0


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    password: str
    users_file: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> tuple[str, str]:
        return ("writer", self.password)

    def peak_rss_bytes(self) -> int:
        """The process's peak resident set (VmHWM): what a bomb would have cost."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM in /proc status")

    def query_seconds(self, sql: str = "SELECT 1") -> float:
        """Seconds an authenticated query took; fails if it was not answered."""
        began = time.perf_counter()
        response = requests.post(self.url, data=sql, auth=self.auth, timeout=10)
        assert response.status_code == 200 and response.text == "1\n", response.text
        return time.perf_counter() - began

    def assert_alive_and_answering(self) -> None:
        assert self.process.poll() is None, "the embedded server exited"
        assert self.query_seconds() < ANSWER_SECONDS


def start_server(tmp: Path, *, extra_users: tuple[User, ...] = (),
                 limits: tuple[str, ...] = ()) -> Iterator[Server]:
    """Yield a running server whose user `writer` has the server's `password`; stop it
    afterwards. `limits` are extra command-line options (e.g. --max-connections 8)."""
    password = base64.b16encode(tmp.name.encode()).decode()[:24] + "Aa1"
    users = tmp / "users.json"
    write_users_file(users, [User("writer", hash_password(password)), *extra_users])
    port = free_port()
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "warehouse.embedded", "--data-dir", str(tmp / "data"),
         "--host", "127.0.0.1", "--port", str(port), "--users-file", str(users), *limits],
        stdout=log, stderr=subprocess.STDOUT)
    server = Server(process, port, password, users)

    def healthy() -> bool:
        assert process.poll() is None, (tmp / "server.log").read_text()
        try:
            return requests.get(f"{server.url}/ping", timeout=2).ok
        except requests.RequestException:
            return False

    try:
        wait_until(healthy, deadline_seconds=120, what="the private embedded server")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


