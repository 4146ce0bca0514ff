"""Per-hop latency histograms, fed from the heartbeats ClickHouse stored.

Each heartbeat records its commit at the source and three later moments (see
`boxoffice.status.hops`). A Prometheus histogram must only grow, so each heartbeat is
observed once: every scrape reads the heartbeats committed in the last few minutes and
observes those not seen before (keyed by commit time and join partition). A heartbeat
stored later than that look-back is not observed; by then the freshness gauge has been
red for minutes.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

LOOK_BACK_SECONDS = 300
BUCKETS_SECONDS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0, 10.0, 30.0, 60.0)

HEARTBEATS_SINCE = """
SELECT source_ts_ms, join_partition, cdc_ts_ms, processed_ts_ms,
       toUnixTimestamp64Milli(ingested_at)
FROM {db}.heartbeats
WHERE source_ts_ms >= {since_ms}
"""


class HopHistograms:
    def __init__(self, registry: CollectorRegistry | None, *,
                 clock: Any = time.time) -> None:
        self.histogram = Histogram(
            "boxoffice_hop_latency_seconds",
            "Seconds from a heartbeat's commit at the source to each hop: kafka (its CDC "
            "record in Kafka), fact (written by the join with the facts before it), "
            "stored (inserted in ClickHouse, visible to every view)",
            ["hop"], buckets=BUCKETS_SECONDS, registry=registry)
        self._clock = clock
        self._started_ms = int(clock() * 1000)
        self._seen: dict[tuple[int, int], int] = {}
        """(source_ts_ms, join_partition) -> source_ts_ms of heartbeats observed."""

    def update(self, client: Any, database: str) -> int:
        """Observe the heartbeats not seen yet; returns how many."""
        now_ms = int(self._clock() * 1000)
        since = max(self._started_ms - 60_000, now_ms - LOOK_BACK_SECONDS * 1000)
        rows = client.query(HEARTBEATS_SINCE.format(db=database, since_ms=since)).result_rows
        observed = 0
        for source_ts, partition, cdc_ts, processed_ts, stored_ts in rows:
            key = (int(source_ts), int(partition))
            if key in self._seen:
                continue
            self._seen[key] = key[0]
            observed += 1
            if cdc_ts >= 0:
                self.histogram.labels("kafka").observe((cdc_ts - source_ts) / 1000)
            self.histogram.labels("fact").observe((processed_ts - source_ts) / 1000)
            self.histogram.labels("stored").observe((stored_ts - source_ts) / 1000)
        self._seen = {k: ts for k, ts in self._seen.items() if ts >= since}
        return observed
