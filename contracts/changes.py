"""Debezium's change events: the one parser every stage reads CDC topics with.

The connector writes JSON without schemas (Kafka Connect JsonConverter,
``schemas.enable=false``): the key is ``{"id": N}``, the value the envelope
``{"before", "after", "op", "source": {"lsn", "ts_ms", ...}, "ts_ms"}``. A converter
with schemas enabled wraps the same envelope as ``{"schema": ..., "payload": ...}``;
both are accepted, so switching the converter cannot silently empty a table.

One set of rules, for the processors (tickets, purchases, performances, heartbeat) and
the sink's dimensions (bands, venues, performances, people) alike:

- a tombstone (null value, compaction's marker after a delete) is None here; each stage
  decides what it means for its state (`tombstone_key` reads its row id);
- ``c``, ``u``, ``r`` carry an ``after`` image; ``d`` carries the key and, with replica
  identity full, a ``before`` image;
- ``t`` (truncate) and ``m`` (logical message) carry no row and cannot be applied change
  by change: refused, so the record reaches the dead letters with the reason and
  status shows it instead of the warehouse silently keeping the truncated rows;
- ``source.lsn`` (0..2^64-1) and ``source.ts_ms`` are integers, always: the LSN orders
  a row's versions, ``ts_ms`` is the commit time freshness is measured from;
- the row id is the key's ``id``, else the image's.

What each stage then needs of the images (the columns the join reads, the columns a
dimension keeps) is the stage's own check. A record that breaks these rules raises
`ChangeRecordError`, whose message becomes the dead letter's reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

ROW_OPS = ("c", "u", "d", "r")
"""Insert, update, delete and snapshot read: the ops that carry a row."""
ROWLESS_OPS = {"t": "truncate", "m": "logical message"}
LSN_MAX = 2**64 - 1


class ChangeRecordError(ValueError):
    """A CDC record that cannot be understood; its message is the dead letter's reason."""


@dataclass(slots=True)
class Change:
    """One row change of one source table.

    Treated as immutable (use `dataclasses.replace`); not declared frozen because a
    frozen dataclass's constructor costs three times as much, once per CDC event.
    """

    table: str
    key: int
    op: str
    """c (insert), u (update), d (delete) or r (snapshot read)."""
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    """None for a delete, whatever the envelope held."""
    lsn: int
    """The source LSN; orders the changes of one row (shared by a whole snapshot)."""
    ts_ms: int
    """Commit time at the source (epoch milliseconds)."""
    source_table: str | None = None
    """``source.table`` as the connector wrote it: a record naming its own table is a
    genuine change event, which a carried column missing from can stop the table
    (`contracts.columns`) instead of becoming a dead letter."""

    @property
    def image(self) -> Mapping[str, Any]:
        """The row as it is now (after), or as it was for a delete (before, else the
        key alone when the table's replica identity gives no before image)."""
        if self.after is not None:
            return self.after
        return self.before if self.before is not None else {"id": self.key}


def parse_change(table: str, key: bytes | str | None,
                 value: bytes | str | None) -> Change | None:
    """The `Change` in one CDC record, or None for a tombstone."""
    if not value:
        return None
    envelope = json_object(value, "value")
    if "op" not in envelope and type(envelope.get("payload")) is dict:
        envelope = envelope["payload"]
    op = envelope.get("op")
    if op not in ROW_OPS:
        if op in ROWLESS_OPS:
            raise ChangeRecordError(
                f"op {op!r} ({ROWLESS_OPS[op]}) on {table} carries no row and cannot be "
                "applied change by change; rebuild the tables it feeds (docs/replay.md)")
        raise ChangeRecordError(f"op must be one of c, u, d, r, got {op!r}")
    source = envelope.get("source")
    if type(source) is not dict:
        raise ChangeRecordError("envelope has no source block")
    lsn, ts_ms = source.get("lsn"), source.get("ts_ms")
    if type(lsn) is not int or type(ts_ms) is not int:
        raise ChangeRecordError(f"source.lsn and source.ts_ms must be integers, got {lsn!r}, "
                                f"{ts_ms!r}")
    if not 0 <= lsn <= LSN_MAX:
        raise ChangeRecordError(f"source.lsn is out of range: {lsn}")
    before = envelope.get("before")
    if before is not None and type(before) is not dict:
        raise ChangeRecordError("before must be an object or null")
    after = envelope.get("after")
    if op == "d":
        after = None
    elif type(after) is not dict:
        raise ChangeRecordError(f"op {op!r} without an after image")
    row_id = _key_id(key) if key else None
    if row_id is None:
        image = after if after is not None else before
        row_id = image.get("id") if image is not None else None
        if type(row_id) is not int:
            raise ChangeRecordError("no integer id in the key or the row images")
    origin = source.get("table")
    return Change(table, row_id, op, before, after, lsn, ts_ms,
                  origin if type(origin) is str else None)


def lsn_text(lsn: int) -> str:
    """An LSN as PostgreSQL writes it: the high and low 32 bits in hex, `X/Y`."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def lsn_from_text(text: str) -> int:
    """The integer of PostgreSQL's `X/Y` text (the one Debezium writes as source.lsn)."""
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def tombstone_key(key: bytes | str | None) -> int:
    """The row id of a tombstone (a key with no value): all it says is "this row is
    gone". A ChangeRecordError when the key holds no integer id."""
    row_id = _key_id(key) if key else None
    if row_id is None:
        raise ChangeRecordError("a tombstone whose key holds no integer id")
    return row_id


def json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    """`raw` parsed as a JSON object, or a ChangeRecordError naming `what` it was."""
    try:
        data = orjson.loads(raw)
    except (orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ChangeRecordError(f"{what} is not JSON: {exc}") from exc
    if type(data) is not dict:
        raise ChangeRecordError(f"{what} must be a JSON object")
    return data


def _key_id(key: bytes | str) -> int:
    row_id = json_object(key, "key").get("id")
    if type(row_id) is not int:
        raise ChangeRecordError(f"key id must be an integer, got {row_id!r}")
    return row_id
