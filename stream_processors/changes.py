"""The join's view of a CDC record: the shared Debezium parser plus the columns it reads.

`contracts.changes.parse_change` decides what a change event is (the same rules as the
sink's dimensions); this module adds what only the join needs: the table must be one it
joins, and the after image must hold every column the join reads with the right type. A
record that fails either raises `ChangeRecordError`, whose message becomes the dead
letter's reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from contracts import changes
from contracts.changes import Change, ChangeRecordError
from contracts.columns import (
    CARRIED_COLUMNS,
    MISSING,
    SourceSchemaChanged,
    integral,
    is_carried_money,
    mapped_default,
    mapped_value,
    missing_or_retyped,
    money,
)
from contracts.tables import JOINED_TABLES

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    table: ("id", *CARRIED_COLUMNS[table]) for table in JOINED_TABLES}
"""The columns of each joined table the join reads, in the order the wire format keeps."""

TOMBSTONE_LSN = -1
"""The LSN a tombstone travels the join topic with (as a delete): "delete this row, if it
still exists, whatever LSN it holds". Real LSNs are never negative."""

TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(c for c, kind in CARRIED_COLUMNS[t].items() if kind == "ts") for t in JOINED_TABLES}
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(c for c, kind in CARRIED_COLUMNS[t].items() if kind == "money")
    for t in JOINED_TABLES}
INT_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(c for c in cols if c not in TEXT_COLUMNS[t] and c not in MONEY_COLUMNS[t])
    for t, cols in REQUIRED_COLUMNS.items()}


NO_MAP: Mapping[str, str] = {}


def parse_change(table: str, key: bytes | str | None, value: bytes | str | None,
                 ts_ms: int = 0, mapped: Mapping[str, str] = NO_MAP) -> Change:
    """The `Change` in one CDC record of a joined table. A tombstone is a delete with
    `TOMBSTONE_LSN` (and `ts_ms`, the record's Kafka time: it carries no source time).

    `mapped` is the table's column map (`contracts.columns.table_map`). A genuine change
    event whose after image lacks a carried column, or holds it with another type, raises
    `SourceSchemaChanged`: the table changed at the source."""
    if table not in REQUIRED_COLUMNS:
        raise ChangeRecordError(f"unknown table {table!r}")
    if not value:
        return Change(table, changes.tombstone_key(key), "d", None, None, TOMBSTONE_LSN,
                      ts_ms)
    change = changes.parse_change(table, key, value)
    assert change is not None  # only a tombstone parses to None
    if change.after is not None:
        try:
            _check_columns(change.after, table)
        except ChangeRecordError:
            return _mapped_or_stopped(change, mapped)
    return change


def _mapped_or_stopped(change: Change, mapped: Mapping[str, str]) -> Change:
    """The slow path of a change whose image failed the check. Read through the column
    map, with whole numeric text taken as the integer it is, it may pass; if not, a
    genuine event stops its table and anything else is malformed (the check's own error,
    a dead letter)."""
    table, after = change.table, change.after
    assert after is not None
    image = dict(after)
    for column, kind in CARRIED_COLUMNS[table].items():
        value = mapped_value(after, column, mapped)
        if kind == "int":
            value = integral(value)
        elif kind == "money":
            value = money(value)
        if _failing_column({column: value}, table, (column,)) is not None:
            default = mapped_default(table, column, mapped)
            if default is not MISSING:
                value = default
        if value is not MISSING:
            image[column] = value
    failing = _failing_column(image, table)
    if failing is None:
        _check_columns(image, table)  # the id, which no map gives
        return dataclasses.replace(change, after=image)
    if change.source_table != table:
        _check_columns(after, table)  # raises the malformed record's reason
    raise SourceSchemaChanged(table, failing,
                              missing_or_retyped(after, table, failing, mapped))


def _failing_column(image: Mapping[str, Any], table: str,
                    columns: tuple[str, ...] | None = None) -> str | None:
    """The first carried column (of `columns`, default all) an image lacks or holds with
    a type the join cannot read (the same rules as `_check_columns`), or None."""
    for column in columns or tuple(CARRIED_COLUMNS[table]):
        if column not in image:
            return column
        value = image[column]
        if value is None:
            continue
        if column in TEXT_COLUMNS[table]:
            if not (type(value) is str and len(value) >= 4 and value[:4].isdigit()):
                return column
        elif column in MONEY_COLUMNS[table]:
            if not is_carried_money(value):
                return column
        elif type(value) is not int:
            return column
    return None


def _check_columns(image: Any, table: str) -> None:
    """Every column the join reads, with its type. A NULL foreign key or date is fine
    (the ticket is held, not an error)."""
    try:
        for column in INT_COLUMNS[table]:
            value = image[column]
            if type(value) is not int and value is not None:
                raise ChangeRecordError(f"after.{column} must be an integer, got {value!r}")
        for column in TEXT_COLUMNS[table]:
            value = image[column]
            if value is not None and not (type(value) is str and len(value) >= 4
                                          and value[:4].isdigit()):
                raise ChangeRecordError(f"after.{column} must be an ISO timestamp, "
                                        f"got {value!r}")
        for column in MONEY_COLUMNS[table]:
            value = image[column]
            if value is not None and not is_carried_money(value):
                raise ChangeRecordError(f"after.{column} must be an amount in whole "
                                        f"cents, got {value!r}")
    except KeyError:
        missing = [c for c in REQUIRED_COLUMNS[table] if c not in image]
        raise ChangeRecordError(f"after lacks {', '.join(missing)}") from None
