"""The worker's counters and the JSON page `boxoffice status` reads.

The worker's thread updates the counters, and after each batch the pending joins and
the consumer lag; readers (the web page, the metrics topic, `boxoffice status`) only
read. `tick()` (the worker's 5-second timer) turns the counters' growth into events per
second, so any number of readers see the same rates without disturbing each other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Metrics:
    worker: str
    events_in: int = 0
    events_out: int = 0
    facts_out: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    heartbeats: int = 0
    rebalances: int = 0
    recoveries: int = 0
    pending_joins: int = 0
    lag_by_partition: dict[str, int] = field(default_factory=dict)
    stopped_tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    """CDC partition ("topic[p]") -> why it stopped (`contracts.columns`) and where."""
    source_went_back: dict[str, Any] | None = None
    """Set (once, until a restart) when a heartbeat came at a lower LSN than the one
    before it: where, both LSNs and the fix (`route_stage.RouteStage._check_order`)."""
    rate_in: float = 0.0
    rate_out: float = 0.0
    _last: tuple[float, int, int] = field(default_factory=lambda: (time.monotonic(), 0, 0))

    def tick(self) -> None:
        """Update the per-second rates from the counters' growth since the last tick."""
        now = time.monotonic()
        then, seen_in, seen_out = self._last
        elapsed = max(now - then, 1e-6)
        self.rate_in = (self.events_in - seen_in) / elapsed
        self.rate_out = (self.events_out - seen_out) / elapsed
        self._last = (now, self.events_in, self.events_out)

    def table_stopped(self, partition: str, details: dict[str, Any]) -> None:
        # replaced whole, never mutated, like the lag: readers on other threads copy it
        self.stopped_tables = {**self.stopped_tables, partition: details}

    def table_resumed(self, partition: str) -> None:
        if partition in self.stopped_tables:
            self.stopped_tables = {k: v for k, v in self.stopped_tables.items()
                                   if k != partition}

    def snapshot(self) -> dict[str, Any]:
        lag = dict(self.lag_by_partition)  # replaced whole by the worker, never mutated
        return {
            "stage": "processors",
            "worker": self.worker,
            "ts_ms": int(time.time() * 1000),
            "events_in": self.events_in,
            "events_out": self.events_out,
            "facts_out": self.facts_out,
            "events_in_per_s": round(self.rate_in, 1),
            "events_out_per_s": round(self.rate_out, 1),
            "pending_joins": self.pending_joins,
            "duplicates": self.duplicates,
            "dead_letters": self.dead_letters,
            "heartbeats": self.heartbeats,
            "rebalances": self.rebalances,
            "recoveries": self.recoveries,
            "consumer_lag": sum(lag.values()),
            "consumer_lag_by_partition": lag,
            "stopped_tables": dict(self.stopped_tables),
            "source_went_back": self.source_went_back,
        }
