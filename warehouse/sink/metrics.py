"""What `boxoffice status` shows about the sink: a small JSON file, rewritten atomically
after every flush (rows/s, last batch time, dead letters, whether ClickHouse answers)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from contracts.files import write_atomically
from contracts.settings import Settings


def metrics_path(settings: Settings, index: int | None = None) -> Path:
    """The metrics file of sink process `index` (default: this process's own)."""
    index = settings.sink_index if index is None else index
    return settings.run_dir / ("sink-metrics.json" if index == 0
                               else f"sink-metrics-{index}.json")


@dataclass
class SinkMetrics:
    pid: int = field(default_factory=os.getpid)
    started_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    rows_total: int = 0
    batches_total: int = 0
    dead_letters_total: int = 0
    insert_retries_total: int = 0
    rows_per_second: float = 0.0
    last_batch_at: float | None = None
    last_batch_rows: int = 0
    clickhouse_up: bool = True
    rows_by_table: dict[str, int] = field(default_factory=dict)
    stopped_tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    """CDC partition ("topic[p]") -> why a source schema change stopped it, and where."""

    def record_flush(self, rows_by_table: dict[str, int], batches: int, dead: int,
                     seconds: float) -> None:
        rows = sum(rows_by_table.values())
        now = time.time()
        self.rows_total += rows
        self.batches_total += batches
        self.dead_letters_total += dead
        for table, count in rows_by_table.items():
            self.rows_by_table[table] = self.rows_by_table.get(table, 0) + count
        if rows:
            self.rows_per_second = rows / max(seconds, 1e-6)
            self.last_batch_at = now
            self.last_batch_rows = rows
        self.clickhouse_up = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_metrics(path: Path, metrics: SinkMetrics) -> None:
    metrics.updated_at = time.time()
    write_atomically(path, json.dumps(metrics.as_dict(), indent=1))


def read_metrics(settings: Settings, index: int = 0) -> dict[str, Any] | None:
    """Sink process `index`'s latest metrics, or None if it never ran in this state
    directory."""
    path = metrics_path(settings, index)
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data
