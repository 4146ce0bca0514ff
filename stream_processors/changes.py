"""The join's view of a CDC record: the shared Debezium parser plus the columns it reads.

`contracts.changes.parse_change` decides what a change event is (the same rules as the
sink's dimensions); this module adds what only the join needs: the table must be one it
joins, and the after image must hold every column the join reads with the right type. A
record that fails either raises `ChangeRecordError`, whose message becomes the dead
letter's reason.
"""

from __future__ import annotations

from typing import Any

from contracts import changes
from contracts.changes import Change, ChangeRecordError

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "tickets": ("id", "price", "performance_id", "purchase_id"),
    "purchases": ("id", "purchase_date", "person_id"),
    "performances": ("id", "performance_start", "band_id", "venue_id"),
}
"""The columns of each joined table the join reads, in the order the wire format keeps."""

TOMBSTONE_LSN = -1
"""The LSN a tombstone travels the join topic with (as a delete): "delete this row, if it
still exists, whatever LSN it holds". Real LSNs are never negative."""

TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(c for c in cols if c.endswith(("_date", "_start")))
    for t, cols in REQUIRED_COLUMNS.items()}
INT_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(c for c in cols if c not in TEXT_COLUMNS[t]) for t, cols in REQUIRED_COLUMNS.items()}


def parse_change(table: str, key: bytes | str | None, value: bytes | str | None,
                 ts_ms: int = 0) -> Change:
    """The `Change` in one CDC record of a joined table. A tombstone is a delete with
    `TOMBSTONE_LSN` (and `ts_ms`, the record's Kafka time: it carries no source time)."""
    if table not in REQUIRED_COLUMNS:
        raise ChangeRecordError(f"unknown table {table!r}")
    if not value:
        return Change(table, changes.tombstone_key(key), "d", None, None, TOMBSTONE_LSN,
                      ts_ms)
    change = changes.parse_change(table, key, value)
    assert change is not None  # only a tombstone parses to None
    if change.after is not None:
        _check_columns(change.after, table)
    return change


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
    except KeyError:
        missing = [c for c in REQUIRED_COLUMNS[table] if c not in image]
        raise ChangeRecordError(f"after lacks {', '.join(missing)}") from None
