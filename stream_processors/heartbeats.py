"""Heartbeats: the source's one-row heartbeat, carried along the facts' own path.

A heartbeat CDC event is parsed into a `Beat`, routed to EVERY join partition (like a
performance) and, in each partition, written to the heartbeats topic by the join stage
inside the same Kafka transaction as that partition's facts. So a heartbeat becomes
visible exactly when the facts committed before it do, and freshness measures the path a
ticket takes. Each record names its join partition; the honest freshness is the newest
heartbeat of the *slowest* partition (`boxoffice.status.freshness`).

The record the warehouse stores is ``{"source_ts_ms", "heartbeat_ts", "processed_ts_ms",
"join_partition"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from stream_processors.changes import ChangeRecordError


@dataclass(frozen=True, slots=True)
class Beat:
    """One heartbeat change: its source commit time, the row's timestamp and LSN."""

    source_ts_ms: int
    heartbeat_ts: str
    lsn: int


def parse_heartbeat(value: bytes | None) -> Beat | None:
    """The `Beat` in one heartbeat CDC event (None for deletes and tombstones)."""
    if value is None or value == b"":
        return None
    try:
        envelope: Any = orjson.loads(value)
        after = envelope.get("after")
        source = envelope["source"]
        source_ts_ms = source["ts_ms"]
        lsn = source.get("lsn") or 0
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ChangeRecordError(f"not a heartbeat change event: {exc!r}") from exc
    if after is None:
        return None
    if not isinstance(after, dict) or not isinstance(after.get("ts"), str):
        raise ChangeRecordError("heartbeat after image has no ts")
    if not isinstance(source_ts_ms, int) or not isinstance(lsn, int):
        raise ChangeRecordError("heartbeat source.ts_ms and source.lsn must be integers")
    return Beat(source_ts_ms=source_ts_ms, heartbeat_ts=after["ts"], lsn=lsn)


def heartbeat_record(beat: Beat, *, join_partition: int, now_ms: int) -> bytes:
    """The heartbeats-topic record a join partition writes for a beat it processed."""
    return orjson.dumps({"source_ts_ms": beat.source_ts_ms,
                         "heartbeat_ts": beat.heartbeat_ts, "processed_ts_ms": now_ms,
                         "join_partition": join_partition})
