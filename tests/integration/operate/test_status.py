"""status against real services: the JSON names every part with its state, parts that
are not running say so, a killed process shows as down at the next status, and a reader
out of quota (every dashboard refused) is a red light that names its fix."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from boxoffice.stack.components.clickhouse import ClickHouse
from boxoffice.stack.supervisor import Supervisor
from boxoffice.status import collect_status
from boxoffice.status.model import DOWN, OK, UNHEALTHY, StatusReport
from contracts.settings import REPO_ROOT, Settings
from tests.integration.operate.sources import settings_env
from tests.providers import PORT_FIELDS, free_port
from tests.support.waiting import wait_until
from warehouse.executor import connect

SECTION_FIELDS = {
    "connector": {"connector_state", "task_states", "slot"},
    "source_tables": {"uncaptured"},
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
                          env=settings_env(settings, *PORT_FIELDS, "postgres_db",
                                           "faust_web_port"))
    assert done.stdout, done.stderr.decode()[-3000:]
    return done.returncode, json.loads(done.stdout)


def services_only(settings: Settings, state_dir: Path) -> Settings:
    """The session's services seen from a state directory of the test's own.

    The session's state directory may also hold another suite's pipeline: tests/security
    keeps its processors and sink running for the whole session (pids in the shared run
    directory, workers on the shared web port), and status would rightly report them. So
    this view gets the services' pid records and the credentials, and nothing else.
    """
    run_dir = state_dir / "run"
    run_dir.mkdir(parents=True)
    for name in ("postgres", "kafka", "clickhouse"):
        shutil.copy(settings.run_dir / f"{name}.json", run_dir)
    shutil.copy(settings.state_dir / "secrets.json", state_dir)
    return settings.model_copy(update={"state_dir": state_dir, "faust_web_port": free_port()})


def test_json_has_every_part_and_parts_not_running_say_so(
        postgres: Settings, kafka: Settings, clickhouse: Settings, tmp_path: Path) -> None:
    code, data = run_status(services_only(clickhouse, tmp_path))
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


def private_clickhouse(clickhouse: Settings, tmp_path: Path, **update: Any) -> Settings:
    """Settings for a second ClickHouse of this test's own (state dir and ports)."""
    return clickhouse.model_copy(update={"state_dir": tmp_path,
                                         "clickhouse_http_port": free_port(),
                                         "clickhouse_tcp_port": free_port(), **update})


def test_a_killed_process_shows_down_at_the_next_status(
        clickhouse: Settings, tmp_path: Path, unique_name: Callable[[str], str]) -> None:
    """A second, private ClickHouse, killed with SIGKILL."""
    settings = private_clickhouse(clickhouse, tmp_path)
    supervisor = Supervisor(settings=settings, components=[ClickHouse(settings=settings)])
    supervisor.up(["clickhouse"], progress=lambda line: None)
    try:
        before = collect_status(settings).section("process:clickhouse")
        assert (before.state, before.data["running"]) == (OK, True)
        pid = before.data["pid"]
        assert isinstance(pid, int)
        os.killpg(pid, signal.SIGKILL)
        killed_at = time.monotonic()

        def shown_down() -> StatusReport | None:
            report = collect_status(settings)
            return report if report.section("process:clickhouse").state == DOWN else None

        # The bound: a stopped process shows within 5 s. Between the signal and
        # the exit, status may still see the pid (then "unhealthy"), so poll to the bound
        # (back to back, as an operator re-running status would).
        after = wait_until(shown_down, deadline_seconds=5.0, poll=0.0,
                           what="status to show the killed ClickHouse down")
        assert after.section("process:clickhouse").state == DOWN
        assert after.section("freshness").state == DOWN
        print(f"down shown {time.monotonic() - killed_at:.2f} s after the kill")
    finally:
        supervisor.down(progress=lambda line: None)


def spend_the_readers_quota(settings: Settings, allowance: int) -> str:
    """Query as the reader until refused (the client's own handshake counts too); return
    the refusal. Failing to be refused within the allowance fails the test."""
    for _ in range(allowance + 1):
        try:
            reader = connect(settings, reader=True)
            try:
                reader.query("SELECT 1")
            finally:
                reader.close()
        except DatabaseError as refused:
            return str(refused)
    pytest.fail(f"the reader was never refused in {allowance + 1} queries")


def test_a_reader_out_of_quota_is_red_and_names_the_setting(
        clickhouse: Settings, tmp_path: Path) -> None:
    """A private ClickHouse whose reader may ask 20 queries an hour: status spends a few
    (the freshness probe and the topics check, each with its connection's handshake, in
    parallel), the test the rest; then the reader is refused (ClickHouse's QUOTA_EXCEEDED,
    201) and the freshness section, the reader's probe, is red with the setting that
    fixes it. Before the quota is spent the same section is not red for the quota
    (negative control). With 5, the first status run itself could spend it when the
    facts topic existed (the topics check reads the sink's topic ids): a CI failure."""
    allowance = 20
    settings = private_clickhouse(clickhouse, tmp_path,
                                  clickhouse_reader_queries_per_hour=allowance)
    supervisor = Supervisor(settings=settings, components=[ClickHouse(settings=settings)])
    supervisor.up(["clickhouse"], progress=lambda line: None)
    try:
        before = collect_status(settings).section("freshness")
        assert "quota" not in before.summary, before
        refusal = spend_the_readers_quota(settings, allowance)
        assert "QUOTA_EXCEEDED" in refusal or "Code: 201." in refusal, refusal
        after = collect_status(settings).section("freshness")
        print(after.summary)
        assert after.state == UNHEALTHY
        assert after.data["reader_quota_spent"] is True
        assert "BOXOFFICE_CLICKHOUSE_READER_QUERIES_PER_HOUR" in after.summary
    finally:
        supervisor.down(progress=lambda line: None)
