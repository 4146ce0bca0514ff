"""What the figures were measured on: CPU, memory, OS, versions and the load average.

The machine is shared and noisy, so every figure carries the 1-minute load average of
the moment it was taken; a figure is only comparable with one taken under similar load.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from contracts.settings import Settings


def process_cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """User + system CPU seconds of a process, 0 once it is gone. With
    `with_reaped_children`, also what its children that exited used (PostgreSQL's
    postmaster reaps the backends of closed connections)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The 1-minute load average, rounded for the tables."""
    return round(os.getloadavg()[0], 2)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def _postgres_version(settings: Settings) -> str:
    binary = Path(f"/usr/lib/postgresql/{settings.postgres_major}/bin/postgres")
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             timeout=10, check=False).stdout.strip()
    except OSError:
        out = ""
    return out or f"PostgreSQL {settings.postgres_major}"


def _clickhouse_version(settings: Settings) -> str:
    """The server the stack runs: the installed binary, else the embedded chdb engine."""
    import shutil
    from importlib.metadata import PackageNotFoundError, version

    if not settings.clickhouse_prefer_embedded and shutil.which(settings.clickhouse_binary):
        return f"clickhouse server ({settings.clickhouse_binary})"
    try:
        return f"embedded chdb {version('chdb')}"
    except PackageNotFoundError:
        return "embedded chdb"


def describe(settings: Settings) -> dict[str, Any]:
    """The machine and the pinned versions of every component."""
    return {
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "ram_gib": _memory_gib(),
        "os": _os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {
            "postgres": _postgres_version(settings),
            "kafka": settings.kafka_version,
            "debezium": settings.debezium_version,
            "clickhouse": _clickhouse_version(settings),
            "superset": settings.superset_version,
        },
    }
