"""The sink's rows/s and liveness, from the metrics file it rewrites after every flush
(warehouse.sink.metrics.read_metrics)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from boxoffice.status.model import DOWN, OK, UNHEALTHY, Section, stopped_summary
from contracts.settings import Settings
from warehouse.sink.metrics import read_metrics

RECENT_BATCH_SECONDS = 10.0
"""A batch older than this means the sink is idle: rows/s 0."""


def _alive(pid: Any) -> bool:
    return isinstance(pid, int) and Path(f"/proc/{pid}").exists()


def rows_per_second(metrics: dict[str, Any], now: float) -> float:
    """The last batch's rate while batches are recent, else 0 (pure)."""
    last = metrics.get("last_batch_at")
    if last is None or now - float(last) > RECENT_BATCH_SECONDS:
        return 0.0
    return round(float(metrics.get("rows_per_second") or 0.0), 1)


def sink_section(settings: Settings) -> Section:
    metrics = read_metrics(settings)
    if metrics is None:
        return Section(name="sink", state=DOWN, summary="no metrics: the sink never ran here",
                       data={"running": False, "rows_per_second": None})
    now = time.time()
    running = _alive(metrics.get("pid"))
    rate = rows_per_second(metrics, now) if running else 0.0
    data = {"running": running, "pid": metrics.get("pid"), "rows_per_second": rate,
            "rows_total": metrics.get("rows_total"),
            "dead_letters_total": metrics.get("dead_letters_total"),
            "clickhouse_up": metrics.get("clickhouse_up"),
            "last_batch_age_seconds": (round(now - float(metrics["last_batch_at"]), 1)
                                       if metrics.get("last_batch_at") else None),
            "rows_by_table": metrics.get("rows_by_table", {}),
            "stopped_tables": metrics.get("stopped_tables", {})}
    if not running:
        return Section(name="sink", state=DOWN, summary="down (its last pid is gone)",
                       data=data)
    if data["stopped_tables"]:
        return Section(name="sink", state=UNHEALTHY, data=data,
                       summary=f"running; {stopped_summary(data['stopped_tables'])}")
    if not metrics.get("clickhouse_up", True):
        return Section(name="sink", state=UNHEALTHY,
                       summary="running, retrying: ClickHouse refuses or does not answer",
                       data=data)
    return Section(name="sink", state=OK,
                   summary=f"{rate:,} rows/s, {int(metrics.get('rows_total') or 0):,} rows "
                           "total", data=data)
