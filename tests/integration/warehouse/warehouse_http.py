"""Helpers for the warehouse integration tests: a migrated throw-away database over HTTP,
and a sink process pointed at the test's own topics, database and consumer group."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from contracts.settings import REPO_ROOT, Settings
from warehouse.executor import ClientExecutor, connect
from warehouse.migrate import migrate

SETTINGS_FOR_SINK = (
    "state_dir", "tools_dir", "bind_host", "kafka_port", "clickhouse_http_port",
    "clickhouse_database", "facts_topic", "heartbeat_topic", "topic_prefix",
    "dead_letter_topic", "sink_group", "sink_batch_rows", "sink_batch_seconds",
)


def migrated(settings: Settings, database: str) -> ClientExecutor:
    executor = ClientExecutor(connect(settings))
    migrate(executor, database, dedup_window_blocks=settings.clickhouse_dedup_window_blocks)
    return executor


def sink_env(settings: Settings) -> dict[str, str]:
    """BOXOFFICE_* variables that make a sink process use exactly these settings."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1")
    for name in SETTINGS_FOR_SINK:
        value = getattr(settings, name)
        if value is not None:
            env[f"BOXOFFICE_{name.upper()}"] = str(value)
    return env


def start_sink(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "warehouse.sink"], env=sink_env(settings),
                            cwd=REPO_ROOT, stdout=handle, stderr=subprocess.STDOUT)
