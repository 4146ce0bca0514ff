"""Decode one Kafka record into one JSONEachRow line for its ClickHouse table.

Errors are data: a record that breaks its contract raises `RecordError` with a reason
the sink sends to the dead-letter topic; `None` means "nothing to store" (a Debezium
tombstone). Validation is strict enough that ClickHouse never refuses a line we pass it:
a refused batch would otherwise stall its partition.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson

from contracts.changes import ChangeRecordError, parse_change, tombstone_key
from contracts.columns import (
    CARRIED_COLUMNS,
    MISSING,
    MONEY_DIGITS,
    SourceSchemaChanged,
    integral,
    is_money,
    mapped_default,
    mapped_value,
    missing_or_retyped,
)
from contracts.facts import FactRecordError, FactRow
from warehouse.sink.added_columns import AddedColumns
from warehouse.sink.tombstones import tombstone_line

Decoder = Callable[[bytes | None, bytes | None], "bytes | None"]
RunCheck = Callable[[list["bytes | None"]], bool]
"""True when every value of a run can be stored exactly as it is (no decoding needed)."""

INT64 = (-(2**63), 2**63 - 1)
UINT64 = (0, 2**64 - 1)


EPOCH = datetime(1970, 1, 1)
STORABLE_MICROS = (0, (datetime(2262, 1, 1) - EPOCH) // timedelta(microseconds=1))
"""Epoch microseconds of 1970-01-01 (included) and 2262-01-01 (excluded)."""


class RecordError(ValueError):
    """A record that cannot be stored; the message is the dead letter's reason."""


def _int(data: Mapping[str, Any], name: str, bounds: tuple[int, int] = INT64) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RecordError(f"{name} must be an integer, got {value!r}")
    if not bounds[0] <= value <= bounds[1]:
        raise RecordError(f"{name} is out of range: {value}")
    return value


def _timestamp(value: Any, name: str) -> str:
    """ISO-8601 text ClickHouse parses; Debezium integers are epoch microseconds.

    Both forms are held to the years DateTime64 stores (1970-2261): anything else is a
    RecordError, a dead letter, never an exception that would stop the sink on the same
    record at every restart."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not STORABLE_MICROS[0] <= value < STORABLE_MICROS[1]:
            raise RecordError(f"{name} is outside 1970-2261: {value} microseconds")
        return (EPOCH + timedelta(microseconds=value)).isoformat() + "Z"
    if not isinstance(value, str):
        raise RecordError(f"{name} must be an ISO timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RecordError(f"{name} is not an ISO timestamp: {value!r}") from exc
    if not 1970 <= parsed.year <= 2261:
        raise RecordError(f"{name} is outside 1970-2261: {value!r}")
    return value


def decode_fact(_key: bytes | None, value: bytes | None) -> bytes:
    """A facts-topic record, validated by the processors' own contract (FactRow).

    The sink validates every record at hundreds of thousands per second, so it tries
    cheap checks first and only ever accepts early what the strict path accepts:
    (1) the processors' canonical encoding (compact JSON, fields in FactRow order, plain
    ASCII strings) recognised by one regular expression whose number and timestamp
    patterns already exclude everything out of range; (2) any other JSON object, parsed
    by orjson and checked field by field without building a FactRow; (3) whatever these
    do not accept outright goes through `_decode_fact_strictly`, whose verdict and
    reason are the contract's.
    """
    if value is None:
        raise RecordError("empty value: the facts topic never has tombstones")
    if _CANONICAL_FACT.fullmatch(value) is not None:
        return value
    return _decode_fact_parsed(value)


def _decode_fact_parsed(value: bytes) -> bytes:
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return _decode_fact_strictly(value)
    if type(data) is not dict or not data.keys() >= _FACT_FIELDS:
        return _decode_fact_strictly(value)
    values = _fact_values(data)
    types = tuple(map(type, values))
    if types != _FACT_TYPES and types != _FACT_TYPES_WITH_CENTS:
        return _decode_fact_strictly(value)  # bool, float and big ints fail here
    (ticket_id, purchase_id, performance_id, band_id, venue_id, _person, price,
     purchase_date, performance_start, festival_year, sign, version, ts_ms) = values
    if (
        (sign != 1 and sign != -1)
        or not is_money(price)
        or max(ticket_id, purchase_id, performance_id, band_id, venue_id,
               ts_ms) > INT64[1]
        or version < 0 or not 0 <= festival_year <= 65535
        or not _valid_timestamp(purchase_date) or not _valid_timestamp(performance_start)
    ):
        return _decode_fact_strictly(value)
    if b"\n" in value or b"\r" in value:
        # one record per line in JSONEachRow: re-encode exactly as FactRow.to_json does
        return json.dumps({name: data[name] for name in FactRow.FIELDS},
                          separators=(",", ":")).encode()
    return value


def _canonical_fact_pattern() -> re.Pattern[bytes]:
    """Compact JSON with FactRow's fields in order, as the processors write it.

    Integers are limited to 18 digits (inside Int64), the version to 19 (inside
    UInt64), the festival year to 4, the price to 16 whole digits, as an integer or as
    text with two decimals (inside Decimal(18, 2)); strings to printable ASCII without escapes; UTC
    timestamps to years 1970-2261 and to days that exist in every year (February 29th
    is left to the other paths), with valid hour, minute and second.
    """
    integer = rb"-?(?:0|[1-9][0-9]{0,17})"
    text = rb'"[\x20\x21\x23-\x5b\x5d-\x7e]*"'
    year = rb"(?:19[7-9][0-9]|2[01][0-9][0-9]|22[0-5][0-9]|226[01])"
    month_day = (rb"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
                 rb"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)")
    moment = (rb'"' + year + b"-" + month_day
              + rb'T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z"')
    whole = rb"-?(?:0|[1-9][0-9]{0,%d})" % (MONEY_DIGITS - 1)
    kinds = {"ticket_price": whole + rb'|"' + whole + rb'\.[0-9]{2}"',
             "person_key": text, "purchase_date": moment, "performance_start": moment,
             "festival_year": rb"(?:0|[1-9][0-9]{0,3})", "sign": rb"-?1",
             "version": rb"(?:0|[1-9][0-9]{0,18})"}
    fields = [b'"' + name.encode() + b'":(?:' + kinds.get(name, integer) + b")"
              for name in FactRow.FIELDS]
    return re.compile(b"\\{" + b",".join(fields) + b"\\}")


_CANONICAL_FACT = _canonical_fact_pattern()
_CANONICAL_FACT_LINES = re.compile(b"(?:" + _CANONICAL_FACT.pattern + b"\n)*+"
                                   + _CANONICAL_FACT.pattern)


def canonical_facts(values: list[bytes | None]) -> bool:
    """Whether `decode_fact` would return every one of these values unchanged by its
    first test, asked once for the whole run: the values joined by newlines against
    the canonical pattern repeated. One regular-expression call per fetched run instead
    of one per record halves the sink's validation time; a run with anything else in
    it (one odd record is enough) is decoded record by record instead. The canonical
    pattern has no newline in it, so the joined text has exactly one line per value
    only if no value held a newline: counted, so two facts in one record never pass."""
    try:
        joined = b"\n".join(values)  # type: ignore[arg-type]
    except TypeError:  # a None value
        return False
    return (joined.count(b"\n") == len(values) - 1
            and _CANONICAL_FACT_LINES.fullmatch(joined) is not None)

_FACT_FIELDS = frozenset(FactRow.FIELDS)
_fact_values = operator.itemgetter(*FactRow.FIELDS)
_FACT_TYPES = tuple(str if name in ("person_key", "purchase_date", "performance_start")
                    else int for name in FactRow.FIELDS)
_PRICE_AT = FactRow.FIELDS.index("ticket_price")
_FACT_TYPES_WITH_CENTS = (*_FACT_TYPES[:_PRICE_AT], str, *_FACT_TYPES[_PRICE_AT + 1:])
_valid_timestamps: dict[str, bool] = {}
"""Timestamps already checked: performance starts repeat across thousands of tickets."""
_MAX_REMEMBERED_TIMESTAMPS = 100_000


def _valid_timestamp(value: str) -> bool:
    known = _valid_timestamps.get(value)
    if known is not None:
        return known
    try:
        _timestamp(value, "")
        valid = True
    except RecordError:
        valid = False
    if len(_valid_timestamps) >= _MAX_REMEMBERED_TIMESTAMPS:
        _valid_timestamps.clear()
    _valid_timestamps[value] = valid
    return valid


def _decode_fact_strictly(value: bytes) -> bytes:
    """The reference validation: FactRow's contract plus the ranges ClickHouse refuses."""
    try:
        row = FactRow.from_json(value)
    except FactRecordError as exc:
        raise RecordError(str(exc)) from exc
    for name in ("ticket_id", "purchase_id", "performance_id", "band_id", "venue_id",
                 "source_ts_ms"):
        if not INT64[0] <= getattr(row, name) <= INT64[1]:
            raise RecordError(f"{name} is out of range: {getattr(row, name)}")
    if not 0 <= row.version <= UINT64[1]:
        raise RecordError(f"version is out of range: {row.version}")
    if not 0 <= row.festival_year <= 65535:
        raise RecordError(f"festival_year is out of range: {row.festival_year}")
    _timestamp(row.purchase_date, "purchase_date")
    _timestamp(row.performance_start, "performance_start")
    if b"\n" in value or b"\r" in value:
        return row.to_json()
    return value


def decode_heartbeat(_key: bytes | None, value: bytes | None) -> bytes:
    if value is None:
        raise RecordError("empty value")
    data = _object(value)
    row = {
        "source_ts_ms": _int(data, "source_ts_ms"),
        "heartbeat_ts": _timestamp(data.get("heartbeat_ts"), "heartbeat_ts"),
        "processed_ts_ms": _int(data, "processed_ts_ms"),
    }
    for optional in ("join_partition", "cdc_ts_ms", "source_lsn"):  # absent: default -1
        if optional in data:
            row[optional] = _int(data, optional)
    return json.dumps(row, separators=(",", ":")).encode()


def _object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise RecordError("the value must be a JSON object")
    return data


DIMENSION_COLUMNS: dict[str, dict[str, str]] = {
    "bands": {**CARRIED_COLUMNS["bands"], "fee": "int?"},
    "venues": CARRIED_COLUMNS["venues"],
    "performances": CARRIED_COLUMNS["performances"],
    "people": {},  # personal data never leaves Postgres unhashed, and is not kept here
}
"""Columns copied from Debezium's `after` image per source table, besides `id`.

A kind ending in `?` is a passenger: kept when the source has it, NULL when it does not.
Nothing boxoffice computes or shows depends on it, so an analyst may drop it at the
source (`ALTER TABLE bands DROP COLUMN fee`) and later rows simply carry no value,
instead of every later change of the table becoming a dead letter. The other columns are
carried (`contracts.columns`): views and dashboards read them. A genuine change without
one of them stops its partition (`SourceSchemaChanged`) rather than becoming a dead
letter: the source table changed, and every later change would say the same."""

_EMPTY = {"str": "", "int": 0, "ts": "1970-01-01T00:00:00Z"}
_READABLE: dict[str, tuple[type, ...]] = {
    kind: (*types, type(None)) for kind, types in
    {"str": (str,), "int": (int,), "ts": (str, int)}.items()}
"""The JSON types a carried column of each kind can be stored from (NULL included: a
NULL is a bad value, a dead letter, not a changed schema)."""


def _passenger(image: Mapping[str, Any], column: str, kind: str) -> int | None:
    """A passenger column's value: None when the image lacks it (dropped at the source,
    or a delete without a before image), else typed as the carried columns are."""
    if image.get(column) is None:
        return None
    if kind != "int":
        raise RecordError(f"no passenger column of kind {kind!r} ({column})")
    return _int(image, column)


def _carried(column: str, kind: str, value: Any) -> Any:
    """A carried column's value typed for its dimension table (a RecordError if not)."""
    if kind == "int":
        return _int({column: value}, column)
    if kind == "ts":
        return _timestamp(value, column)
    if not isinstance(value, str):
        raise RecordError(f"{column} must be a string, got {value!r}")
    return value


def dimension_decoder(table: str, mapped: Mapping[str, str] | None = None,
                      added: AddedColumns | None = None) -> Decoder:
    """The decoder of one source table's Debezium change events: parsed by the rules
    every stage shares (`contracts.changes`), then the dimension's columns typed, read
    through the table's column map (`contracts.columns.table_map`) where it has one;
    with `added`, the columns the source gained since, as text (`added_columns`)."""
    columns = DIMENSION_COLUMNS[table]
    mapping = dict(mapped or {})
    empty = {c: None if kind.endswith("?") else _EMPTY[kind] for c, kind in columns.items()}

    def decode(key: bytes | None, value: bytes | None) -> bytes | None:
        try:
            change = parse_change(table, key, value)
        except ChangeRecordError as exc:
            raise RecordError(str(exc)) from exc
        if change is None:  # resolved into a delete, or nothing, before the insert
            try:
                row_id = tombstone_key(key)
            except ChangeRecordError as exc:
                raise RecordError(str(exc)) from exc
            return tombstone_line(row_id, empty)
        deleted = int(change.op == "d")
        image = change.image
        row: dict[str, Any] = {
            "id": _int({"id": change.key} if deleted else image, "id"),
            "version": change.lsn,
            "is_deleted": deleted,
            "source_ts_ms": change.ts_ms,
        }
        for column, kind in columns.items():
            if kind.endswith("?"):
                row[column] = _passenger(image, column, kind[:-1])
                continue
            found = mapped_value(image, column, mapping)
            if kind == "int":
                found = integral(found)
            if found is MISSING or not isinstance(found, _READABLE[kind]):
                default = mapped_default(table, column, mapping)
                if default is not MISSING:
                    found = default
            if deleted and found in (None, MISSING):
                row[column] = _EMPTY[kind]
            elif change.source_table == table and (
                    found is MISSING or not isinstance(found, _READABLE[kind])):
                raise SourceSchemaChanged(table, column,
                                          missing_or_retyped(image, table, column, mapping))
            else:
                row[column] = _carried(column, kind, None if found is MISSING else found)
        if added is not None:
            row.update(added.values(image))
        return json.dumps(row, separators=(",", ":")).encode()

    return decode
