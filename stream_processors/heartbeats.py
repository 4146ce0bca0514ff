"""Heartbeats: the source's one-row heartbeat, carried along the facts' own path.

A heartbeat CDC event is parsed into a `Beat`, routed to EVERY join partition (like a
performance) and, in each partition, written to the heartbeats topic by the join stage
inside the same Kafka transaction as that partition's facts. So a heartbeat becomes
visible exactly when the facts committed before it do, and freshness measures the path a
ticket takes. Each record names its join partition; the honest freshness is the newest
heartbeat of the *slowest* partition (`boxoffice.status.freshness`).

The record the warehouse stores is ``{"source_ts_ms", "source_lsn", "heartbeat_ts",
"processed_ts_ms", "join_partition", "cdc_ts_ms"}``: the commit at the source and its WAL
position (what the live dashboard's "as of" names: every change committed before it is
in), the CDC record's Kafka timestamp, and when the join wrote the facts before it, so
ClickHouse can tell, with its own insert time, how long each hop took
(`boxoffice.status.freshness`).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from contracts.changes import ChangeRecordError, parse_change


@dataclass(frozen=True, slots=True)
class Beat:
    """One heartbeat change: its source commit time, the row's timestamp and LSN."""

    source_ts_ms: int
    heartbeat_ts: str
    lsn: int
    cdc_ts_ms: int = -1
    """The CDC record's Kafka timestamp (when Connect produced it); -1 if Kafka gave none."""


def parse_heartbeat(key: bytes | None, value: bytes | None, cdc_ts_ms: int = -1
                    ) -> Beat | None:
    """The `Beat` in one heartbeat CDC event (None for deletes and tombstones), parsed by
    the same rules as every other change event (`contracts.changes`); `cdc_ts_ms` is the
    record's Kafka timestamp."""
    change = parse_change("heartbeat", key, value)
    if change is None or change.after is None:
        return None
    ts = change.after.get("ts")
    if type(ts) is not str:
        raise ChangeRecordError("heartbeat after image has no ts")
    return Beat(source_ts_ms=change.ts_ms, heartbeat_ts=ts, lsn=change.lsn,
                cdc_ts_ms=cdc_ts_ms)


def heartbeat_record(beat: Beat, *, join_partition: int, now_ms: int) -> bytes:
    """The heartbeats-topic record a join partition writes for a beat it processed."""
    return orjson.dumps({"source_ts_ms": beat.source_ts_ms, "source_lsn": beat.lsn,
                         "heartbeat_ts": beat.heartbeat_ts, "processed_ts_ms": now_ms,
                         "join_partition": join_partition, "cdc_ts_ms": beat.cdc_ts_ms})
