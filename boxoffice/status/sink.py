"""The sink processes' rows/s and liveness, from the metrics file each rewrites after
every flush (warehouse.sink.metrics.read_metrics)."""

from __future__ import annotations

import time
from typing import Any

from boxoffice.stack.supervisor import process_alive
from boxoffice.status.model import DOWN, OK, UNHEALTHY, WARN, Section, stopped_summary
from contracts.settings import Settings
from warehouse.sink.metrics import read_metrics

RECENT_BATCH_SECONDS = 10.0
"""A batch older than this means the sink is idle: rows/s 0."""


def rows_per_second(metrics: dict[str, Any], now: float) -> float:
    """The last batch's rate while batches are recent, else 0 (pure)."""
    last = metrics.get("last_batch_at")
    if last is None or now - float(last) > RECENT_BATCH_SECONDS:
        return 0.0
    return round(float(metrics.get("rows_per_second") or 0.0), 1)


def sink_section(settings: Settings) -> Section:
    processes = [read_metrics(settings, index) for index in range(settings.sink_processes)]
    found = [m for m in processes if m is not None]
    if not found:
        return Section(name="sink", state=DOWN, summary="no metrics: the sink never ran here",
                       data={"running": False, "rows_per_second": None})
    now = time.time()
    running = [m for m in found if process_alive(m.get("pid"))]
    rate = round(sum(rows_per_second(m, now) for m in running), 1)
    last_batches = [float(m["last_batch_at"]) for m in found if m.get("last_batch_at")]
    stopped = {partition: details for m in running
               for partition, details in (m.get("stopped_tables") or {}).items()}
    rows_by_table: dict[str, int] = {}
    for m in found:
        for table, rows in (m.get("rows_by_table") or {}).items():
            rows_by_table[table] = rows_by_table.get(table, 0) + int(rows)
    data = {"running": bool(running), "processes": len(processes),
            "processes_running": len(running),
            "pid": running[0].get("pid") if running else found[0].get("pid"),
            "rows_per_second": rate,
            "rows_total": sum(int(m.get("rows_total") or 0) for m in found),
            "dead_letters_total": sum(int(m.get("dead_letters_total") or 0) for m in found),
            "clickhouse_up": all(m.get("clickhouse_up", True) for m in running),
            "last_batch_age_seconds": (round(now - max(last_batches), 1)
                                       if last_batches else None),
            "rows_by_table": rows_by_table, "stopped_tables": stopped}
    if not running:
        return Section(name="sink", state=DOWN, summary="down (its last pid is gone)",
                       data=data)
    if stopped:
        return Section(name="sink", state=UNHEALTHY, data=data,
                       summary=f"running; {stopped_summary(stopped)}")
    if not data["clickhouse_up"]:
        return Section(name="sink", state=UNHEALTHY,
                       summary="running, retrying: ClickHouse refuses or does not answer",
                       data=data)
    summary = f"{rate:,} rows/s, {data['rows_total']:,} rows total"
    if len(running) < len(processes):
        return Section(name="sink", state=WARN, data=data, summary=(
            f"{len(running)}/{len(processes)} sink processes running (the others' "
            f"partitions moved to them; `boxoffice up` starts the rest); {summary}"))
    if len(processes) > 1:
        summary = f"{len(processes)} processes, {summary}"
    return Section(name="sink", state=OK, summary=summary, data=data)
