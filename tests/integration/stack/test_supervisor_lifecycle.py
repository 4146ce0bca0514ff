"""The supervisor's contract with real processes: pids, health, crash detection, restarts.

A tiny HTTP server stands in for a service so these tests exercise only the supervisor;
the per-service tests exercise the real components.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
import requests

from boxoffice.errors import ComponentError
from boxoffice.stack.component import Component, LaunchSpec
from boxoffice.stack.supervisor import Supervisor, port_in_use
from contracts.settings import Settings, load_settings
from tests.providers import free_port
from tests.support.waiting import wait_until


class HttpServer(Component):
    name = "web"

    def __init__(self, *, settings: Settings, name: str, port: int,
                 depends: tuple[str, ...] = (), broken: bool = False) -> None:
        super().__init__(settings=settings)
        self.name = name  # type: ignore[misc]
        self.depends_on = depends  # type: ignore[misc]
        self.port = port
        self.broken = broken

    @property
    def ports(self) -> dict[str, int]:
        return {"http": self.port}

    def launch_spec(self) -> LaunchSpec:
        if self.broken:
            code = "import sys; print('cannot open the frobnicator'); sys.exit(3)"
            return LaunchSpec(argv=[sys.executable, "-c", code])
        return LaunchSpec(argv=[sys.executable, "-m", "http.server", str(self.port),
                                "--bind", "127.0.0.1"], cwd=self.settings.state_dir)

    def is_healthy(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/", timeout=1).ok
        except requests.RequestException:
            return False


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(state_dir=tmp_path, health_deadline_seconds=20)


def _stack(settings: Settings, **extra: HttpServer) -> Supervisor:
    first = HttpServer(settings=settings, name="first", port=free_port())
    second = HttpServer(settings=settings, name="second", port=free_port(), depends=("first",))
    return Supervisor(settings=settings, components=[first, second, *extra.values()])


def test_up_is_idempotent_and_down_leaves_nothing(settings: Settings) -> None:
    supervisor = _stack(settings)
    assert supervisor.up() == ["first", "second"]
    pids = [s.pid for s in supervisor.status()]
    assert all(s.healthy for s in supervisor.status())
    assert supervisor.up() == []
    assert [s.pid for s in supervisor.status()] == pids
    supervisor.down()
    for pid in pids:
        assert pid is not None
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
    assert not any(port_in_use("127.0.0.1", c.ports["http"]) for c in supervisor.components)


def test_kill_9_is_reported_quickly_and_only_that_one_restarts(settings: Settings) -> None:
    supervisor = _stack(settings)
    supervisor.up()
    try:
        victim = supervisor.status()[0]
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        wait_until(lambda: not supervisor.status()[0].running, deadline_seconds=5, poll=0.1,
                   what="a dead process to show (within 5 s)")
        report = supervisor.status()[0]
        assert not report.healthy and report.log_file.endswith("first.log")
        survivor_pid = supervisor.status()[1].pid
        assert supervisor.up() == ["first"]
        assert supervisor.status()[1].pid == survivor_pid
    finally:
        supervisor.down()


def test_up_right_after_a_kill_starts_a_new_process_once_the_old_one_is_gone(
    settings: Settings,
) -> None:
    """`kill -9` then `up` at once: the dying process is still in /proc for a moment
    (a JVM tears down hundreds of threads), unhealthy; `up` must wait for it to vanish
    and then start a new one, not report "exited during start-up"."""
    import json
    import subprocess

    supervisor = _stack(settings)
    dying = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    (settings.run_dir / "first.json").write_text(json.dumps(
        {"pid": dying.pid, "argv": [sys.executable], "started_at": time.time()}))
    try:
        assert supervisor.up(["first"]) == ["first"]
        dying.wait(5)
        report = supervisor.status()[0]
        assert report.healthy and report.pid != dying.pid
    finally:
        supervisor.down()
        dying.kill()


def test_a_failed_start_names_the_component_and_its_log_and_undoes_the_start(
    settings: Settings,
) -> None:
    broken = HttpServer(settings=settings, name="broken", port=free_port(), broken=True)
    supervisor = _stack(settings, broken=broken)
    with pytest.raises(ComponentError) as caught:
        supervisor.up()
    message = str(caught.value)
    assert "broken" in message and "broken.log" in message
    assert "cannot open the frobnicator" in message
    assert not any(s.running for s in supervisor.status())


def test_a_busy_port_is_refused_with_a_clear_message(settings: Settings) -> None:
    supervisor = _stack(settings)
    busy = supervisor.components[0].ports["http"]
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", busy))
        holder.listen()
        with pytest.raises(ComponentError, match=f"port {busy}.*already in use") as caught:
            supervisor.up()
    assert "contracts/settings.py" in str(caught.value)
    assert not any(s.running for s in supervisor.status())


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
