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

Money is its own kind: `tickets.price` is carried to the cent whether the source keeps it
as an integer or as numeric (`money`), so the commonest type change of a ticketing
database, whole dollars becoming dollars and cents, is a widening and stops nothing.

Then restart the stages (`boxoffice down processors sink`, `boxoffice up`): each resumes
at the record it stopped at, now understood.

Only a genuine change event of the table stops it: one whose ``source.table`` names the
table, as Debezium writes every event. Anything else that lacks a column is malformed
and goes to the dead letters as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

CARRIED_COLUMNS: dict[str, dict[str, str]] = {
    "tickets": {"price": "money", "performance_id": "int", "purchase_id": "int"},
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
    "money": frozenset({"smallint", "integer", "bigint", "numeric"}),
}
"""PostgreSQL types (information_schema.columns.data_type) each kind is stored from:
widening within a kind (integer to bigint, varchar(n) to text) changes nothing."""

WHOLE_VALUES_ONLY: dict[str, frozenset[str]] = {"int": frozenset({"numeric"})}
"""Source types an integer column is still carried from while its values are whole
(`integral`); the first value with a fraction stops the table."""

KIND_WORDS = {"int": "an integer", "str": "text", "ts": "a timestamp",
              "money": "an amount in whole cents"}

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
        elif CARRIED_COLUMNS[table][column] == "money" and not is_money(money(value[1:])):
            raise ValueError(f"column_map: {key!r} is an amount; its value must be "
                             f"'=<amount in whole cents>' such as '=0' or '=12.50', "
                             f"not {value!r}")


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
    kind = CARRIED_COLUMNS[table][column]
    return int(value) if kind == "int" else money(value) if kind == "money" else value


_INTEGRAL = re.compile(r"-?[0-9]{1,18}(?:\.0*)?")


def integral(value: Any) -> Any:
    """An integer column's value arriving as numeric text (the source column became
    numeric; the connector writes decimals as text) as the integer it holds, when it holds
    a whole number: integer to numeric is a widening. Anything else is returned as it is,
    for the stage's own check to refuse ("49.99" cannot be carried in whole units)."""
    if type(value) is str and _INTEGRAL.fullmatch(value):
        return int(value.split(".", 1)[0])
    return value


MONEY_DIGITS = 16
"""Whole digits an amount may have: the warehouse keeps it as Decimal(18, 2)."""
MONEY_SCALE = 2
"""Decimals an amount may have: cents."""
MONEY_BOUND = 10**MONEY_DIGITS
_CENTS = re.compile(rf"-?[0-9]{{1,{MONEY_DIGITS}}}\.[0-9]{{{MONEY_SCALE}}}")
_NUMERIC_TEXT = re.compile(rf"(-?)0*([0-9]{{1,{MONEY_DIGITS}}})(?:\.([0-9]*))?")


def money(value: Any) -> Any:
    """An amount as every stage carries it: an integer while it is whole, else text with
    exactly two decimals ("49.90"), the way the connector writes numeric columns and
    ClickHouse reads Decimal(18, 2) without a float in between. Numeric text is
    normalised ("49.9" and "49.900" become "49.90", "50.00" becomes 50) so one price
    has one spelling and a retraction repeats it. Anything else (fractions of a cent,
    words) is returned as it is, for `is_money` to refuse."""
    if type(value) is str:
        match = _NUMERIC_TEXT.fullmatch(value)
        if match is not None:
            sign, whole, fraction = match.group(1), match.group(2), (match.group(3) or "")
            fraction = fraction.rstrip("0")
            if not fraction:
                return int(sign + whole)
            if len(fraction) <= MONEY_SCALE:
                return f"{sign}{whole}.{fraction:0<{MONEY_SCALE}}"
    return value


def is_money(value: Any) -> bool:
    """An amount the warehouse stores exactly: an integer of at most `MONEY_DIGITS`
    digits, or text of such an integer and two decimals."""
    if type(value) is int:
        return -MONEY_BOUND < value < MONEY_BOUND
    return type(value) is str and _CENTS.fullmatch(value) is not None


def is_carried_money(value: Any) -> bool:
    """`is_money` in the one spelling `money` gives (what the join keeps and emits)."""
    return is_money(value) and (type(value) is int or money(value) == value)


def add_amount(amount: int | str, change: int | Decimal) -> int | str:
    """An amount plus a change, spelled as `money` spells it (a correction's new price)."""
    return money(str(exact_amount(amount) + change))  # type: ignore[no-any-return]


def exact_amount(value: Any) -> int | Decimal:
    """A sum or price read back from PostgreSQL or ClickHouse (an int, a Decimal, numeric
    text) as an exact number to compare: an int while whole, else a Decimal. `int()`
    would drop the cents; a float would round them."""
    if type(value) is int:
        return value
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    return int(amount) if amount == amount.to_integral_value() else amount


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
