"""Debezium change events, parsed into plain records.

The connector writes JSON without schemas (Kafka Connect JsonConverter,
``schemas.enable=false``): the key is ``{"id": N}``, the value the envelope
``{"before", "after", "op", "source": {"lsn", "ts_ms", ...}, "ts_ms"}``. Parsing is the
only place that trusts the wire format; everything downstream sees `Change`. A record
that does not parse raises `ChangeRecordError`, whose message becomes the dead letter's
reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

TABLES = ("tickets", "purchases", "performances")
OPS = ("c", "u", "d", "r")

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "tickets": ("id", "price", "performance_id", "purchase_id"),
    "purchases": ("id", "purchase_date", "person_id"),
    "performances": ("id", "performance_start", "band_id", "venue_id"),
}


class ChangeRecordError(ValueError):
    """A CDC record that cannot be understood; its message is the dead letter's reason."""


@dataclass(slots=True)
class Change:
    """One row change of one source table, as the join logic needs it.

    Treated as immutable (use `dataclasses.replace`); not declared frozen because a
    frozen dataclass's constructor costs three times as much, once per CDC event.
    """

    table: str
    key: int
    op: str
    """c (insert), u (update), d (delete) or r (snapshot read)."""
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    lsn: int
    """The source LSN; orders the changes of one row (shared by a whole snapshot)."""
    ts_ms: int
    """Commit time at the source (epoch milliseconds)."""

    @property
    def is_delete(self) -> bool:
        return self.op == "d"


def parse_change(table: str, key: bytes | str | None, value: bytes | str | None) -> Change | None:
    """The `Change` in one CDC record, or None for a tombstone (the null after a delete)."""
    if not value:
        return None
    columns = INT_COLUMNS.get(table)
    if columns is None:
        raise ChangeRecordError(f"unknown table {table!r}")
    envelope = _json_object(value, "value")
    op = envelope.get("op")
    if op not in OPS:
        raise ChangeRecordError(f"op must be one of c, u, d, r, got {op!r}")
    source = envelope.get("source")
    if type(source) is not dict:
        raise ChangeRecordError("envelope has no source block")
    lsn, ts_ms = source.get("lsn"), source.get("ts_ms")
    if type(lsn) is not int or type(ts_ms) is not int:
        raise ChangeRecordError(f"source.lsn and source.ts_ms must be integers, got {lsn!r}, "
                                f"{ts_ms!r}")
    before = envelope.get("before")
    if before is not None and type(before) is not dict:
        raise ChangeRecordError("before must be an object or null")
    after = _row(envelope.get("after"), table, "after", full=True)
    if op == "d":
        after = None
    elif after is None:
        raise ChangeRecordError(f"op {op!r} without an after image")
    row_id = _key_id(key) if key else None
    if row_id is None:
        image = after if after is not None else before
        row_id = image.get("id") if image is not None else None
        if type(row_id) is not int:
            raise ChangeRecordError("no integer id in the key or the row images")
    return Change(table, row_id, op, before, after, lsn, ts_ms)


def _json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except (orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ChangeRecordError(f"{what} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ChangeRecordError(f"{what} must be a JSON object")
    return data


def _key_id(key: bytes | str | None) -> int | None:
    if key is None or key in (b"", ""):
        return None
    data = _json_object(key, "key")
    row_id = data.get("id")
    if not _is_int(row_id):
        raise ChangeRecordError(f"key id must be an integer, got {row_id!r}")
    return int(row_id)  # type: ignore[arg-type]


TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(c for c in cols if c.endswith(("_date", "_start")))
    for t, cols in REQUIRED_COLUMNS.items()}
INT_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(c for c in cols if c not in TEXT_COLUMNS[t]) for t, cols in REQUIRED_COLUMNS.items()}


def _row(image: Any, table: str, what: str, *, full: bool) -> dict[str, Any] | None:
    """Check a before/after image; `full` demands every column the join reads.

    A NULL foreign key or date is fine (the ticket is held, not an error)."""
    if image is None:
        return None
    if type(image) is not dict:
        raise ChangeRecordError(f"{what} must be an object or null")
    if full:
        try:
            for column in INT_COLUMNS[table]:
                value = image[column]
                if type(value) is not int and value is not None:
                    raise ChangeRecordError(f"{what}.{column} must be an integer, got "
                                            f"{value!r}")
            for column in TEXT_COLUMNS[table]:
                value = image[column]
                if value is not None and not (type(value) is str and len(value) >= 4
                                              and value[:4].isdigit()):
                    raise ChangeRecordError(f"{what}.{column} must be an ISO timestamp, "
                                            f"got {value!r}")
        except KeyError:
            missing = [c for c in REQUIRED_COLUMNS[table] if c not in image]
            raise ChangeRecordError(f"{what} lacks {', '.join(missing)}") from None
    return image


def _is_int(value: Any) -> bool:
    return type(value) is int
