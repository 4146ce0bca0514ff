"""Put back the text values Debezium could not send (TOAST) before a dimension row is stored.

PostgreSQL keeps a text value over ~2 KB out of line (TOAST). An update that leaves it
unchanged, on a table with REPLICA IDENTITY DEFAULT, makes pgoutput send "unchanged
toast" and Debezium writes `UNAVAILABLE_VALUE` in its place. Storing that would replace
the real name in ClickHouse, so the sink substitutes the column's previous value: from an
earlier record of the same flush if there is one, else the latest stored in ClickHouse
(one lookup per table per flush). A record whose previous value exists nowhere cannot be
stored truthfully and becomes a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

UNAVAILABLE_VALUE = "__debezium_unavailable_value"
"""Debezium's `unavailable.value.placeholder` (its default; the connector keeps it)."""

_MARK = orjson.dumps(UNAVAILABLE_VALUE)

PreviousValues = Callable[[Collection[int]], dict[int, dict[str, str]]]
"""ids -> {id: {column: latest stored value}}, only for the values that exist."""


@dataclass(frozen=True)
class Unresolved:
    """A record whose placeholder has no previous value to stand for: a dead letter."""

    reason: str


def has_placeholder(lines: Sequence[bytes]) -> bool:
    """The cheap test every dimension batch pays: a substring search per line."""
    return any(_MARK in line for line in lines)


def fill_placeholders(lines: Sequence[bytes], columns: Sequence[str],
                      previous: PreviousValues) -> list[bytes | Unresolved]:
    """`lines` (JSONEachRow dimension rows, in offset order) with every placeholder in
    `columns` replaced by the column's previous value, or `Unresolved`.

    An earlier line of `lines` for the same id wins over `previous`, which is asked once,
    for the ids whose first placeholder has no earlier line to take the value from.
    """
    rows: list[dict[str, Any]] = [orjson.loads(line) for line in lines]
    known: dict[int, dict[str, str]] = {}
    missing: set[int] = set()
    for row in rows:
        values = known.setdefault(row["id"], {})
        if any(row.get(c) == UNAVAILABLE_VALUE and c not in values for c in columns):
            missing.add(row["id"])
        _remember(values, row, columns)
    stored = previous(sorted(missing)) if missing else {}
    known = {i: dict(v) for i, v in stored.items()}
    out: list[bytes | Unresolved] = []
    for line, row in zip(lines, rows, strict=True):
        values = known.setdefault(row["id"], {})
        gone = [c for c in columns if row.get(c) == UNAVAILABLE_VALUE]
        if not gone:
            out.append(line)
        elif row.get("is_deleted"):
            # a deleted row's text is never read: keep what is known, else empty
            out.append(orjson.dumps({**row, **{c: values.get(c, "") for c in gone}}))
        elif all(c in values for c in gone):
            out.append(orjson.dumps({**row, **{c: values[c] for c in gone}}))
        else:
            unknown = ", ".join(c for c in gone if c not in values)
            out.append(Unresolved(
                f"{unknown} of id {row['id']} arrived as Debezium's {UNAVAILABLE_VALUE} "
                f"(unchanged TOAST value) and no earlier value is stored to keep"))
            continue
        _remember(values, row, columns)
    return out


def _remember(values: dict[str, str], row: dict[str, Any], columns: Sequence[str]) -> None:
    if row.get("is_deleted"):
        return
    for column in columns:
        value = row.get(column)
        if isinstance(value, str) and value != UNAVAILABLE_VALUE:
            values[column] = value
