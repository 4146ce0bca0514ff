"""Heartbeat forwarding: the source's one-row heartbeat, stamped as it passes through.

The record the warehouse stores is ``{"source_ts_ms", "heartbeat_ts",
"processed_ts_ms"}``, so freshness covers the processor stage too.
"""

from __future__ import annotations

import json
from typing import Any

from stream_processors.changes import ChangeRecordError


def heartbeat_record(value: bytes, *, now_ms: int) -> bytes | None:
    """The heartbeats-topic record for one heartbeat CDC event (None for deletes)."""
    try:
        envelope: Any = json.loads(value)
        after = envelope.get("after")
        source_ts_ms = envelope["source"]["ts_ms"]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ChangeRecordError(f"not a heartbeat change event: {exc!r}") from exc
    if after is None:
        return None
    if not isinstance(after, dict) or not isinstance(after.get("ts"), str):
        raise ChangeRecordError("heartbeat after image has no ts")
    return json.dumps({"source_ts_ms": source_ts_ms, "heartbeat_ts": after["ts"],
                       "processed_ts_ms": now_ms}, separators=(",", ":")).encode()
