"""Where the services under test come from: testcontainers when Docker answers, else native.

The test bodies never know which provider they got: every fixture yields a `Settings`
pointing at a running service (host, ports, credentials).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from contracts.settings import REPO_ROOT, Settings, load_settings

PORT_FIELDS = (
    "postgres_port",
    "kafka_port",
    "kafka_controller_port",
    "connect_port",
    "clickhouse_http_port",
    "clickhouse_tcp_port",
    "superset_port",
    "faust_web_port",
    "metrics_port",
    "processors_metrics_port",
    "sink_metrics_port",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def docker_available() -> bool:
    """True when a Docker daemon answers (not merely when the client is installed)."""
    if os.environ.get("BOXOFFICE_TEST_PROVIDER") == "native":
        return False
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


def test_settings(state_dir: Path) -> Settings:
    """Settings for a throw-away stack: free ports, its own state, the shared tool cache."""
    tools = Path(os.environ.get("BOXOFFICE_TOOLS_DIR", REPO_ROOT / ".boxoffice" / "tools"))
    ports = {name: free_port() for name in PORT_FIELDS}
    return load_settings(state_dir=state_dir, tools_dir=tools, **ports)
