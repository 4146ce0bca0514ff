"""Columns an analyst adds to a dimension table at the source, carried into ClickHouse.

`ALTER TABLE festival.venues ADD COLUMN city text` reaches the sink as one more key in
the next change of a venue. The decoder passes such keys on (as text: the JSON carries
no column type, and text holds every value exactly), and before the batch that holds the
first of them is inserted, the sink adds the column to the dimension table
(`Nullable(String)`: rows stored before it have none) and re-creates the dimension's
view, whose `SELECT * EXCEPT (...)` then shows it: SQL Lab and Superset see the column
without a restart. Rows that no change has touched since the DDL keep NULL until they
change, or until the table is snapshotted again (`boxoffice connector snapshot venues`).

Only bands, venues and performances grow: `people` keeps nothing but its id (personal
data), and the facts' shape is the processors' contract, not the source's. A column
whose name is not a plain lower-case identifier, or is one of the table's own
bookkeeping columns, is not added (logged once). On a cluster (`warehouse migrate
--cluster`) the sink's ALTER is not sent ON CLUSTER: add the column there by hand.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

import orjson

log = logging.getLogger("boxoffice.sink")

EXTENDABLE_TABLES = ("bands", "venues", "performances")
BOOKKEEPING = frozenset({"id", "version", "is_deleted", "source_ts_ms", "ingested_at"})
ADDED_TYPE = "Nullable(String)"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class AddedColumns:
    """One dimension's added columns: the ones seen in changes but not yet known to be
    in its ClickHouse table. Decoding (the sink's main thread) adds; the inserter (its
    insert thread) takes them before it inserts, so a column exists before any row of it
    is stored (the writer skips unknown fields, so the order matters)."""

    def __init__(self, table: str, ignored: frozenset[str] = frozenset()) -> None:
        self.table = table
        self._ignored = BOOKKEEPING | ignored
        """The dimension's own columns, and source columns the column map reads under
        another name: none of them is an added column."""
        self._known: set[str] = set()
        self._pending: list[str] = []
        self._refused: set[str] = set()
        self._lock = threading.Lock()

    def values(self, image: Mapping[str, Any]) -> dict[str, str | None]:
        """The image's added columns as text (None for NULL); new names are queued."""
        out: dict[str, str | None] = {}
        for column, value in image.items():
            if column in self._ignored:
                continue
            if column not in self._known and not self._note(column):
                continue
            out[column] = _as_text(value)
        return out

    def _note(self, column: str) -> bool:
        with self._lock:
            if column in self._known or column in self._pending:
                return True
            if column in self._refused:
                return False
            if _NAME.fullmatch(column) is None:
                self._refused.add(column)
                log.warning("%s: the source's new column %r is not a plain lower-case name; "
                            "it is not added to the warehouse", self.table, column)
                return False
            self._pending.append(column)
            return True

    def pending(self) -> list[str]:
        with self._lock:
            return list(self._pending)

    def added(self, columns: list[str]) -> None:
        """These columns exist in the ClickHouse table now."""
        with self._lock:
            self._known.update(columns)
            self._pending = [c for c in self._pending if c not in self._known]


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return orjson.dumps(value).decode()


def add_column_statements(database: str, table: str, columns: list[str]) -> list[str]:
    """The DDL that adds `columns` to `dim_<table>` (idempotent)."""
    return [f"ALTER TABLE {database}.dim_{table} ADD COLUMN IF NOT EXISTS `{column}` "
            f"{ADDED_TYPE}" for column in columns]
