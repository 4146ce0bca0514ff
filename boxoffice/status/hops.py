"""Where the time goes between a commit at the source and the warehouse, hop by hop.

Every heartbeat records four moments (warehouse/migrations/0015): its commit at the
source (`source_ts_ms`), its CDC record's Kafka timestamp (`cdc_ts_ms`, when Connect
produced it), the moment the join wrote it with the facts before it (`processed_ts_ms`)
and ClickHouse's insert time (`ingested_at`). Each is counted from the commit, so the
figures add up along the path a ticket takes:

- ``kafka``: commit -> CDC record in Kafka (Debezium's poll and Connect's producer);
- ``fact``: commit -> fact record written by the join (its transaction commits right
  after, with the heartbeat);
- ``stored``: commit -> inserted in ClickHouse. Inserts are synchronous and the
  aggregates are filled inside the same insert, so the rows are visible to every view
  when the insert returns: `ingested_at` is stamped as ClickHouse starts reading the
  batch, earlier by the insert's own duration (tens of milliseconds per batch, the
  sink's log line "stored N rows ... in X s").

p50 and p99 over the heartbeats committed in the last minute: with one heartbeat a
second per join partition that is a few hundred samples, read from the small
`heartbeats` table by its sort key.
"""

from __future__ import annotations

from typing import Any

WINDOW_SECONDS = 60
HOPS = ("kafka", "fact", "stored")

HOPS_OF_LAST_MINUTE = """
SELECT count(), countIf(cdc_ts_ms >= 0),
       quantilesExactIf(0.5, 0.99)(cdc_ts_ms - source_ts_ms, cdc_ts_ms >= 0),
       quantilesExact(0.5, 0.99)(processed_ts_ms - source_ts_ms),
       quantilesExact(0.5, 0.99)(toUnixTimestamp64Milli(ingested_at) - source_ts_ms)
FROM {db}.heartbeats
WHERE source_ts_ms >= toUnixTimestamp64Milli(now64(3)) - {window_ms}
"""


def hop_latencies(client: Any, database: str, *, window_seconds: float = WINDOW_SECONDS
                  ) -> dict[str, dict[str, int]] | None:
    """{hop: {"p50": ms, "p99": ms}} over the last minute (or `window_seconds`: the live
    bench reads one load step), None without heartbeats. A hop without samples
    (heartbeats written before its column existed) is left out."""
    rows = client.query(HOPS_OF_LAST_MINUTE.format(
        db=database, window_ms=int(window_seconds * 1000))).result_rows
    count, with_kafka_time, *quantiles = rows[0]
    if not count:
        return None
    return {hop: {"p50": int(p50), "p99": int(p99)}
            for hop, (p50, p99) in zip(HOPS, quantiles, strict=True)
            if hop != "kafka" or with_kafka_time}


def hops_summary(hops: dict[str, dict[str, int]]) -> str:
    """"last minute p50/p99: in Kafka 310/640 ms, fact 420/900 ms, stored 700/1400 ms"."""
    words = {"kafka": "in Kafka", "fact": "fact", "stored": "stored"}
    return "last minute p50/p99: " + ", ".join(
        f"{words[hop]} {hops[hop]['p50']}/{hops[hop]['p99']} ms" for hop in HOPS if hop in hops)
