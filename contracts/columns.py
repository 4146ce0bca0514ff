"""The source columns the pipeline carries, and what happens when the source changes them.

A carried column is one a stage cannot do without: the join reads it into every fact,
or a dimension keeps it for the views. When an analyst renames or drops one, or changes
its type to one the pipeline cannot store, every later change of its table breaks the
same way. Sending each to the dead letters would flood them and let the table silently
stop following the source, so such a change *stops its table* instead: the stage that
meets it raises `SourceSchemaChanged`, stops reading that partition at that record
(nothing after it is read, nothing before it is lost), and status names the table, the
column and the fix. The other tables keep flowing.

The operator's fixes, all read from settings (`BOXOFFICE_COLUMN_MAP`) by every stage and
by verify:

- a rename: map the carried name to the source's new one, ``{"venues.capacity": "seats"}``;
- a drop: bring the column back (or give up the table), and for the changes made while
  it was gone name a value, ``{"venues.capacity": "=0"}``; rewriting every row once the
  column is back supersedes those values, so the warehouse ends exact;
- a type change: revert it, or follow the documented migration (docs/source.md).

Then restart the stages (`boxoffice down processors sink`, `boxoffice up`): each resumes
at the record it stopped at, now understood.

Only a genuine change event of the table stops it: one whose ``source.table`` names the
table, as Debezium writes every event. Anything else that lacks a column is malformed
and goes to the dead letters as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

CARRIED_COLUMNS: dict[str, dict[str, str]] = {
    "tickets": {"price": "int", "performance_id": "int", "purchase_id": "int"},
    "purchases": {"purchase_date": "ts", "person_id": "int"},
    "performances": {"performance_start": "ts", "band_id": "int", "venue_id": "int"},
    "bands": {"name": "str"},
    "venues": {"name": "str", "capacity": "int"},
}
"""Table -> carried column -> kind, for every stage: the join's columns (tickets,
purchases, performances) and the dimensions' (bands, venues, performances). Passenger
columns (`bands.fee`) and the row id are not here: a table without them still flows."""

SOURCE_TYPES: dict[str, frozenset[str]] = {
    "int": frozenset({"smallint", "integer", "bigint"}),
    "str": frozenset({"text", "character varying", "character"}),
    "ts": frozenset({"timestamp without time zone", "timestamp with time zone"}),
}
"""PostgreSQL types (information_schema.columns.data_type) each kind is stored from:
widening within a kind (integer to bigint, varchar(n) to text) changes nothing."""

WHOLE_VALUES_ONLY: dict[str, frozenset[str]] = {"int": frozenset({"numeric"})}
"""Source types an integer column is still carried from while its values are whole
(`integral`); the first value with a fraction stops the table."""

KIND_WORDS = {"int": "an integer", "str": "text", "ts": "a timestamp"}

DEFAULT_PREFIX = "="
"""A column map value starting with this is a value, not a column name."""


class SourceSchemaChanged(Exception):
    """A genuine change event of `table` without `column` as the pipeline carries it.

    Not a malformed record: the source table changed, so every later event of it will say
    the same. The stage stops the table's partition at this record."""

    def __init__(self, table: str, column: str, change: str) -> None:
        self.table, self.column, self.change = table, column, change
        super().__init__(f"{table}.{column} {change}")

    def as_dict(self) -> dict[str, str]:
        return {"table": self.table, "column": self.column, "change": self.change,
                "fix": fix_for(self.table, self.column)}


def fix_for(table: str, column: str) -> str:
    """The operator's next step for a stopped table, in one line."""
    return (f"map the column in settings: BOXOFFICE_COLUMN_MAP='{{\"{table}.{column}\": "
            f"\"<new name>\"}}' after a rename, or '{{\"{table}.{column}\": \"=<value>\"}}' "
            "for changes made while it was dropped; or revert the change at the source; then "
            "restart the stages (`boxoffice down processors sink && boxoffice up`); "
            "docs/source.md, \"Stopped tables\"")


def table_map(column_map: Mapping[str, str], table: str) -> dict[str, str]:
    """The map's entries for one table: carried column -> source column or =value."""
    prefix = f"{table}."
    return {key[len(prefix):]: value for key, value in column_map.items()
            if key.startswith(prefix)}


def check_column_map(column_map: Mapping[str, str]) -> None:
    """A ValueError naming the first entry that maps no carried column or maps it to
    something that is neither a column name nor an integer or text `=value`."""
    for key, value in column_map.items():
        table, _, column = key.partition(".")
        if column not in CARRIED_COLUMNS.get(table, {}):
            carried = ", ".join(f"{t}.{c}" for t, cs in CARRIED_COLUMNS.items() for c in cs)
            raise ValueError(f"column_map: {key!r} is not a carried column; one of {carried}")
        if not value.startswith(DEFAULT_PREFIX):
            if not value.isidentifier():
                raise ValueError(f"column_map: {key!r} maps to {value!r}, which is neither a "
                                 "column name nor '=<value>'")
        elif CARRIED_COLUMNS[table][column] == "int":
            try:
                int(value[1:])
            except ValueError:
                raise ValueError(f"column_map: {key!r} is an integer column; its value "
                                 f"must be '=<integer>', not {value!r}") from None


MISSING: Any = object()
"""A carried column an image does not hold, under its name or its mapped one."""


def mapped_value(image: Mapping[str, Any], column: str, mapped: Mapping[str, str]) -> Any:
    """The carried column's value in a change's image: the column itself, else the source
    column the map renames it to; `MISSING` when neither is there."""
    if column in image:
        return image[column]
    target = mapped.get(column)
    if target is not None and not target.startswith(DEFAULT_PREFIX) and target in image:
        return image[target]
    return MISSING


def mapped_default(table: str, column: str, mapped: Mapping[str, str]) -> Any:
    """The value the map gives changes that lack the column or hold it unreadably
    (``"=0"``), typed as the column is carried; `MISSING` when it gives none."""
    target = mapped.get(column)
    if target is None or not target.startswith(DEFAULT_PREFIX):
        return MISSING
    value = target[len(DEFAULT_PREFIX):]
    return int(value) if CARRIED_COLUMNS[table][column] == "int" else value


_INTEGRAL = re.compile(r"-?[0-9]{1,18}(?:\.0*)?")


def integral(value: Any) -> Any:
    """An integer column's value arriving as numeric text (the source column became
    numeric; the connector writes decimals as text) as the integer it holds, when it holds
    a whole number: integer to numeric is a widening. Anything else is returned as it is,
    for the stage's own check to refuse ("49.99" cannot be carried in whole units)."""
    if type(value) is str and _INTEGRAL.fullmatch(value):
        return int(value.split(".", 1)[0])
    return value


def missing_or_retyped(image: Mapping[str, Any], table: str, column: str,
                       mapped: Mapping[str, str]) -> str:
    """What a carried column looks like in an image that failed its check, in words:
    the `change` of a `SourceSchemaChanged`."""
    source = mapped.get(column, column)
    if column not in image and source not in image:
        extra = sorted(set(image) - set(CARRIED_COLUMNS.get(table, {})) - {"id"})
        seen = f"; the change has {', '.join(extra)}" if extra else ""
        return f"is missing (renamed or dropped at the source{seen})"
    value = image[column] if column in image else image[source]
    wanted = KIND_WORDS[CARRIED_COLUMNS[table][column]]
    return (f"arrives as {type(value).__name__} {value!r}, not {wanted} (its type changed "
            "at the source)")
