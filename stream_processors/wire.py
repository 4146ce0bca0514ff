"""The internal join topic's record format: a routed `Change` or `Beat`, compactly.

Only what the join reads travels: table, key, op, the after image's join columns, LSN
and source time (the before image stayed with the router, which used it for routing).
A heartbeat travels as table ``"heartbeat"`` with its timestamp as the only column.
"""

from __future__ import annotations

from typing import Any

import orjson

from contracts.changes import Change, ChangeRecordError
from contracts.columns import is_carried_money
from contracts.facts import FactRow
from stream_processors.changes import MONEY_COLUMNS, REQUIRED_COLUMNS
from stream_processors.heartbeats import Beat

HEARTBEAT = "heartbeat"
FIELDS = FactRow.FIELDS


def encode(change: Change) -> bytes:
    after = None
    if change.after is not None:
        after = [change.after[c] for c in REQUIRED_COLUMNS[change.table]]
    return orjson.dumps([change.table, change.key, change.op, after, change.lsn,
                         change.ts_ms])


def encode_beat(beat: Beat) -> bytes:
    return orjson.dumps([HEARTBEAT, 0, "u", [beat.heartbeat_ts, beat.cdc_ts_ms], beat.lsn,
                         beat.source_ts_ms])


def _beat(after: list[Any], lsn: int, ts_ms: int) -> Beat:
    """A heartbeat's join-topic values; records written before the CDC timestamp
    travelled have only the row's timestamp."""
    return Beat(source_ts_ms=ts_ms, heartbeat_ts=after[0], lsn=lsn,
                cdc_ts_ms=after[1] if len(after) > 1 else -1)


def decode(raw: bytes) -> Change | Beat:
    try:
        table, key, op, after, lsn, ts_ms = orjson.loads(raw)
        if table == HEARTBEAT:
            return _beat(after, lsn, ts_ms)
        row = dict(zip(REQUIRED_COLUMNS[table], after, strict=True)) if after else None
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ChangeRecordError(f"not a join-topic record: {exc}") from exc
    return Change(table=table, key=key, op=op, before=None, after=row, lsn=lsn, ts_ms=ts_ms)


Values = tuple[str, int, list[Any] | None, int, int]
"""(table, key, after values in `REQUIRED_COLUMNS` order or None, lsn, ts_ms)."""
TEXT_AT = {table: {i for i, c in enumerate(cols) if c.endswith(("_date", "_start"))}
           for table, cols in REQUIRED_COLUMNS.items()}
MONEY_AT = {table: {cols.index(c) for c in MONEY_COLUMNS[table]}
            for table, cols in REQUIRED_COLUMNS.items()}


def decode_values(raw: bytes) -> Values | Beat:
    """`decode` without building a `Change`: the join stage's hot path. Checks what
    `JoinState.apply_values` relies on, so a bad record fails before touching state."""
    try:
        table, key, _op, after, lsn, ts_ms = orjson.loads(raw)
        if table == HEARTBEAT:
            return _beat(after, lsn, ts_ms)
        columns = REQUIRED_COLUMNS[table]
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ChangeRecordError(f"not a join-topic record: {exc!r}") from exc
    if type(key) is not int or type(lsn) is not int or type(ts_ms) is not int:
        raise ChangeRecordError("join-topic record: key, lsn and ts_ms must be integers")
    if after is not None:
        if type(after) is not list or len(after) != len(columns):
            raise ChangeRecordError(f"join-topic record: {table} needs {len(columns)} values")
        for i, value in enumerate(after):
            if value is None:
                continue
            if i in TEXT_AT[table]:
                if type(value) is not str or not value[:4].isdigit() or len(value) < 4:
                    raise ChangeRecordError(f"join-topic record: {columns[i]} {value!r}")
            elif type(value) is not int and not (i in MONEY_AT[table]
                                                 and is_carried_money(value)):
                raise ChangeRecordError(f"join-topic record: {columns[i]} {value!r}")
    return table, key, after, lsn, ts_ms


def delta_json(delta: tuple[Any, ...]) -> bytes:
    """The facts-topic record of a `JoinState.apply_values` delta: `FactRow.to_json`'s
    exact bytes, without building the FactRow."""
    return orjson.dumps(dict(zip(FIELDS, delta, strict=True)))


def fact_json(fact: FactRow) -> bytes:
    """`FactRow.to_json`'s exact bytes, several times faster (no `asdict` copy)."""
    return orjson.dumps({name: getattr(fact, name) for name in FactRow.FIELDS})
