"""One Debezium parser: the processors' path and the sink's dimension path read the same
records the same way. `performances` is read by both (the join needs it, and it is a
dimension), so each record below goes through both and the verdicts are compared."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.changes import ChangeRecordError, parse_change
from stream_processors.changes import TOMBSTONE_LSN
from stream_processors.changes import parse_change as processors_parse
from warehouse.sink.records import RecordError, dimension_decoder
from warehouse.sink.tombstones import has_tombstone

ROW = {"id": 7, "performance_start": "2022-10-07T19:00:00Z", "band_id": 3, "venue_id": 2}
SOURCE = {"lsn": 1_000, "ts_ms": 1_660_000_000_000, "txId": 9}
KEY = b'{"id": 7}'


def event(op: str, *, before: Any = None, after: Any = ROW, source: Any = SOURCE) -> bytes:
    return json.dumps({"op": op, "before": before, "after": after, "source": source,
                       "ts_ms": 1_660_000_000_500}).encode()


RECORDS: dict[str, tuple[bytes | None, bytes | None]] = {
    "insert": (KEY, event("c")),
    "update": (KEY, event("u", before=ROW, after={**ROW, "venue_id": 5})),
    "snapshot read": (KEY, event("r")),
    "delete with before": (KEY, event("d", before=ROW, after=None)),
    "delete, key only": (KEY, event("d", before=None, after=None)),
    "delete without a key": (None, event("d", before=ROW, after=None)),
    "tombstone": (KEY, None),
    "tombstone without a key": (None, None),
    "wrapped payload": (KEY, json.dumps({"schema": {"type": "struct"},
                                         "payload": json.loads(event("u"))}).encode()),
    "truncate": (None, event("t", after=None)),
    "message": (None, event("m", after=None)),
    "missing source ts_ms": (KEY, event("c", source={"lsn": 1_000})),
    "lsn as text": (KEY, event("c", source={**SOURCE, "lsn": "1000"})),
    "negative lsn": (KEY, event("c", source={**SOURCE, "lsn": -1})),
    "no source": (KEY, event("c", source=None)),
    "insert without after": (KEY, event("c", after=None)),
    "unknown op": (KEY, event("x")),
    "not JSON": (KEY, b"{nope"),
    "key id not an integer": (b'{"id": "7"}', event("c")),
}


def processors_verdict(key: bytes | None, value: bytes | None) -> tuple[Any, ...]:
    try:
        change = processors_parse("performances", key, value)
    except ChangeRecordError as refused:
        return ("refused", str(refused))
    if change.lsn == TOMBSTONE_LSN:
        return ("tombstone", change.key)
    deleted = change.op == "d"
    columns = None if deleted else (change.image["band_id"], change.image["venue_id"])
    return ("row", change.key, int(deleted), change.lsn, change.ts_ms, columns)


def sink_verdict(key: bytes | None, value: bytes | None) -> tuple[Any, ...]:
    try:
        line = dimension_decoder("performances")(key, value)
    except RecordError as refused:
        return ("refused", str(refused))
    if line is None:
        return ("nothing",)
    row = json.loads(line)
    if has_tombstone([line]):
        return ("tombstone", row["id"])
    columns = None if row["is_deleted"] else (row["band_id"], row["venue_id"])
    return ("row", row["id"], row["is_deleted"], row["version"], row["source_ts_ms"],
            columns)


@pytest.mark.parametrize("name", list(RECORDS))
def test_the_processors_and_the_sink_agree(name: str) -> None:
    key, value = RECORDS[name]
    assert processors_verdict(key, value) == sink_verdict(key, value)


@pytest.mark.parametrize(("name", "verdict"), [
    ("insert", ("row", 7, 0, 1_000, 1_660_000_000_000, (3, 2))),
    ("update", ("row", 7, 0, 1_000, 1_660_000_000_000, (3, 5))),
    ("wrapped payload", ("row", 7, 0, 1_000, 1_660_000_000_000, (3, 2))),
    ("delete, key only", ("row", 7, 1, 1_000, 1_660_000_000_000, None)),
    ("delete without a key", ("row", 7, 1, 1_000, 1_660_000_000_000, None)),
    ("tombstone", ("tombstone", 7)),
    ("tombstone without a key", ("refused", "a tombstone whose key holds no integer id")),
])
def test_what_both_make_of_a_record(name: str, verdict: tuple[Any, ...]) -> None:
    assert sink_verdict(*RECORDS[name]) == verdict


@pytest.mark.parametrize(("name", "reason"), [
    ("truncate", "truncate"), ("message", "logical message"),
    ("missing source ts_ms", "must be integers"), ("lsn as text", "must be integers"),
    ("negative lsn", "out of range"), ("no source", "no source block"),
    ("insert without after", "without an after image"), ("unknown op", "op must be one of"),
    ("not JSON", "not JSON"), ("key id not an integer", "key id must be an integer"),
])
def test_refusals_name_their_reason(name: str, reason: str) -> None:
    key, value = RECORDS[name]
    with pytest.raises(ChangeRecordError, match=reason):
        parse_change("performances", key, value)
