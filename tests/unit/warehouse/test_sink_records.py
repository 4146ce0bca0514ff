"""Decoding Kafka records into rows: valid ones pass, invalid ones say why."""

from __future__ import annotations

import json

import pytest

from contracts.facts import FactRow
from warehouse.sink.added_columns import AddedColumns, add_column_statements
from warehouse.sink.records import (
    STORABLE_MICROS,
    RecordError,
    decode_fact,
    decode_heartbeat,
    dimension_decoder,
)
from warehouse.sink.tombstones import has_tombstone

FACT = FactRow(ticket_id=1, purchase_id=2, performance_id=3, band_id=4, venue_id=5,
               person_key="k", ticket_price=25, purchase_date="2022-10-07T17:31:02.123456Z",
               performance_start="2022-10-07T19:00:00.000000Z", festival_year=2022, sign=1,
               version=77, source_ts_ms=1)


def test_valid_fact_passes_through() -> None:
    assert decode_fact(b"1", FACT.to_json()) == FACT.to_json()


@pytest.mark.parametrize("change, reason", [
    ({"sign": 0}, "sign"),
    ({"ticket_price": "25"}, "ticket_price"),
    ({"purchase_date": "yesterday"}, "purchase_date"),
    ({"festival_year": 70000}, "festival_year"),
    ({"version": -1}, "version"),
])
def test_invalid_fact_has_a_reason(change: dict[str, object], reason: str) -> None:
    data = {**json.loads(FACT.to_json()), **change}
    with pytest.raises(RecordError, match=reason):
        decode_fact(b"1", json.dumps(data).encode())


def test_not_json_and_missing_fields() -> None:
    with pytest.raises(RecordError, match="not JSON"):
        decode_fact(None, b"{oops")
    with pytest.raises(RecordError, match="missing fields"):
        decode_fact(None, b'{"ticket_id": 1}')
    with pytest.raises(RecordError):
        decode_fact(None, None)


def test_heartbeat() -> None:
    raw = b'{"source_ts_ms": 5, "heartbeat_ts": "2022-10-07T19:00:00Z", "processed_ts_ms": 6}'
    assert json.loads(decode_heartbeat(None, raw))["source_ts_ms"] == 5
    hops = raw[:-1] + b', "join_partition": 1, "cdc_ts_ms": 7}'
    assert json.loads(decode_heartbeat(None, hops))["cdc_ts_ms"] == 7
    assert "source_lsn" not in json.loads(decode_heartbeat(None, hops))  # the default, -1
    at = raw[:-1] + b', "source_lsn": 4294967297}'
    assert json.loads(decode_heartbeat(None, at))["source_lsn"] == 4294967297
    with pytest.raises(RecordError):
        decode_heartbeat(None, b'{"source_ts_ms": "5"}')


def envelope(op: str, before: object, after: object, lsn: int = 100) -> bytes:
    return json.dumps({"before": before, "after": after, "op": op,
                       "source": {"lsn": lsn, "ts_ms": 9}, "ts_ms": 10}).encode()


def test_dimension_insert_update_delete() -> None:
    decode = dimension_decoder("venues")
    row = json.loads(decode(b'{"id": 1}', envelope("c", None,
                                                   {"id": 1, "name": "Honda",
                                                    "capacity": 5000})) or b"")
    assert row == {"id": 1, "version": 100, "is_deleted": 0, "source_ts_ms": 9,
                   "name": "Honda", "capacity": 5000}
    gone = json.loads(decode(b'{"id": 1}', envelope("d", {"id": 1}, None, 200)) or b"")
    assert gone["is_deleted"] == 1 and gone["version"] == 200 and gone["capacity"] == 0
    tombstone = decode(b'{"id": 1}', None)  # resolved before the insert
    assert tombstone is not None and has_tombstone([tombstone])
    with pytest.raises(RecordError, match="tombstone"):
        decode(None, None)


def test_people_keep_no_name() -> None:
    row = json.loads(dimension_decoder("people")(
        b'{"id": 3}', envelope("r", None, {"id": 3, "name": "hashed-name"})) or b"")
    assert "name" not in row and row["id"] == 3


def test_a_passenger_column_is_kept_while_the_source_has_it_and_null_after() -> None:
    """bands.fee is not carried: dropping it at the source must not dead-letter bands."""
    decode = dimension_decoder("bands")
    with_fee = json.loads(decode(None, envelope("c", None, {"id": 1, "name": "A", "fee": 50})))
    assert with_fee["fee"] == 50
    dropped = json.loads(decode(None, envelope("u", None, {"id": 1, "name": "B"})))
    assert (dropped["name"], dropped["fee"]) == ("B", None)
    deleted = json.loads(decode(None, envelope("d", {"id": 1}, None)))
    assert (deleted["is_deleted"], deleted["fee"]) == (1, None)
    with pytest.raises(RecordError, match="fee must be an integer"):
        decode(None, envelope("c", None, {"id": 1, "name": "A", "fee": "a lot"}))
    with pytest.raises(RecordError, match="name must be a string"):
        decode(None, envelope("c", None, {"id": 1, "fee": 50}))  # carried: required


def test_dimension_errors() -> None:
    decode = dimension_decoder("performances")
    with pytest.raises(RecordError, match="op must be one of c, u, d, r"):
        decode(None, envelope("x", None, {"id": 1}))
    with pytest.raises(RecordError, match="lsn"):
        decode(None, json.dumps({"op": "c", "after": {"id": 1}, "source": {}}).encode())
    with pytest.raises(RecordError, match="performance_start"):
        decode(None, envelope("u", None, {"id": 1, "performance_start": "soon",
                                          "band_id": 1, "venue_id": 2}))


@pytest.mark.parametrize("micros", [2**63 - 1, -(2**63), 10**17, -1, STORABLE_MICROS[1]])
def test_an_integer_timestamp_out_of_range_is_a_record_error(micros: int) -> None:
    """Debezium's epoch microseconds outside 1970-2261 used to raise OverflowError or
    ValueError from the conversion (not a RecordError: the sink exited, restarted on the
    same record and exited again, forever), or to pass as a year ClickHouse cannot
    store (10**17 is in 5138). Integers beyond 64 bits arrive as floats and are refused
    as not a timestamp."""
    decode = dimension_decoder("performances")
    with pytest.raises(RecordError, match="performance_start is outside 1970-2261"):
        decode(None, envelope("c", None, {"id": 1, "performance_start": micros,
                                          "band_id": 1, "venue_id": 2}))


@pytest.mark.parametrize(("micros", "text"), [
    (0, "1970-01-01T00:00:00Z"),
    (1_665_169_200_000_001, "2022-10-07T19:00:00.000001Z"),
    (STORABLE_MICROS[1] - 1, "2261-12-31T23:59:59.999999Z"),
])
def test_integer_timestamps_convert_to_the_exact_microsecond(micros: int, text: str) -> None:
    row = json.loads(dimension_decoder("performances")(None, envelope(
        "c", None, {"id": 1, "performance_start": micros, "band_id": 1, "venue_id": 2}))
        or b"")
    assert row["performance_start"] == text


def test_a_dimension_passes_on_columns_the_source_added_as_text() -> None:
    """A column added at the source travels as text; the decoder queues its name so
    that the sink adds it to the table before storing the row (`added_columns`)."""
    added = AddedColumns("venues", frozenset({"name", "capacity"}))
    decode = dimension_decoder("venues", None, added)
    image = {"id": 1, "name": "Hall", "capacity": 10, "city": "Paris", "floors": 3,
             "open_air": True, "Bad Name": "x", "version": 99, "tags": ["a"]}
    row = json.loads(decode(b'{"id": 1}', envelope("u", None, image)) or b"")
    assert (row["city"], row["floors"], row["open_air"], row["tags"]) == (
        "Paris", "3", "true", '["a"]')
    assert "Bad Name" not in row and row["version"] == 100  # the LSN, not the column
    assert added.pending() == ["city", "floors", "open_air", "tags"]
    added.added(added.pending())
    assert added.pending() == []
    assert add_column_statements("db", "venues", ["city"]) == [
        "ALTER TABLE db.dim_venues ADD COLUMN IF NOT EXISTS `city` Nullable(String)"]
