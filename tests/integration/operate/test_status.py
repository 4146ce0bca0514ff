"""status against real services: the JSON names every part with its state, parts that
are not running say so, and a killed process shows as down at the next status."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from boxoffice.settings import REPO_ROOT, Settings
from boxoffice.stack.components.clickhouse import ClickHouse
from boxoffice.stack.supervisor import Supervisor
from boxoffice.status import collect_status
from boxoffice.status.model import DOWN, OK
from tests.integration.operate.sources import settings_env
from tests.providers import PORT_FIELDS, free_port

SECTION_FIELDS = {
    "connector": {"connector_state", "task_states", "slot"},
    "consumer_lag": {"groups"},
    "processors": {"pending_joins"},
    "dead_letters": {"by_stage"},
    "sink": {"rows_per_second", "running"},
    "freshness": {"freshness_seconds"},
}


def run_status(settings: Settings) -> tuple[int, dict[str, Any]]:
    code = ("import typer; from boxoffice.cli.operate import status_command; "
            "typer.run(status_command)")
    done = subprocess.run([sys.executable, "-c", code, "--json"], cwd=REPO_ROOT,
                          capture_output=True, timeout=60,
                          env=settings_env(settings, *PORT_FIELDS, "postgres_db"))
    assert done.stdout, done.stderr.decode()[-3000:]
    return done.returncode, json.loads(done.stdout)


def test_json_has_every_part_and_parts_not_running_say_so(
        postgres: Settings, kafka: Settings, clickhouse: Settings) -> None:
    code, data = run_status(clickhouse)
    print(json.dumps(data, indent=1))
    assert code == 1  # no connector, processors or sink: unhealthy
    sections = data["sections"]
    assert isinstance(sections, dict)
    for name in ("postgres", "kafka", "clickhouse"):
        assert sections[f"process:{name}"]["state"] == OK, sections[f"process:{name}"]
        assert sections[f"process:{name}"]["pid"]
    for name, fields in SECTION_FIELDS.items():
        assert {"state", "healthy", "summary"} | fields <= set(sections[name]), name
    assert sections["processors"]["state"] == DOWN
    assert sections["sink"]["state"] == DOWN
    assert sections["consumer_lag"]["state"] == OK  # Kafka answers; the groups are empty
    assert sections["dead_letters"]["state"] == OK
    assert set(data["unhealthy"]) >= {"processors", "sink"}


def test_a_killed_process_shows_down_at_the_next_status(
        clickhouse: Settings, tmp_path: Path, unique_name: Callable[[str], str]) -> None:
    """A second, private ClickHouse (own state dir and port), killed with SIGKILL."""
    settings = clickhouse.model_copy(update={"state_dir": tmp_path,
                                             "clickhouse_http_port": free_port(),
                                             "clickhouse_tcp_port": free_port()})
    supervisor = Supervisor(settings=settings, components=[ClickHouse(settings=settings)])
    supervisor.up(["clickhouse"], progress=lambda line: None)
    try:
        before = collect_status(settings).section("process:clickhouse")
        assert (before.state, before.data["running"]) == (OK, True)
        pid = before.data["pid"]
        assert isinstance(pid, int)
        os.killpg(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        # The bound: a stopped process shows within 5 s. Between the signal and
        # the exit, status may still see the pid (then "unhealthy"), so poll to the bound.
        after = collect_status(settings)
        while (after.section("process:clickhouse").state != DOWN
               and time.monotonic() < killed_at + 5.0):
            after = collect_status(settings)
        assert after.section("process:clickhouse").state == DOWN
        assert after.section("freshness").state == DOWN
        print(f"down shown {time.monotonic() - killed_at:.2f} s after the kill")
    finally:
        supervisor.down(progress=lambda line: None)
