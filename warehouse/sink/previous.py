"""Read what is stored of dimension rows: the latest text, for
`placeholders.fill_placeholders`, and the latest version, for
`tombstones.resolve_tombstones`.

Its own client (the writer's user may SELECT), used only on the sink's insert thread. A
ClickHouse that does not answer raises ClickHouseUnavailable, which the sink retries
like an insert.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Sequence
from typing import Any

from warehouse.errors import ClickHouseUnavailable
from warehouse.sink.placeholders import UNAVAILABLE_VALUE


class StoredValues:
    """`lookup(table, columns)(ids)`: the latest non-deleted, non-placeholder value of
    each column per id, over every stored version (ReplacingMergeTree keeps history until
    merges, and the newest version is what a flush follows)."""

    def __init__(self, *, database: str, client_factory: Callable[[], Any]) -> None:
        self.database = database
        self._factory = client_factory
        self._client: Any | None = None

    def lookup(self, table: str,
               columns: Sequence[str]) -> Callable[[Collection[int]], dict[int, dict[str, str]]]:
        def previous(ids: Collection[int]) -> dict[int, dict[str, str]]:
            return self.latest(table, columns, ids)
        return previous

    def latest(self, table: str, columns: Sequence[str],
               ids: Collection[int]) -> dict[int, dict[str, str]]:
        picks = ", ".join(f"argMaxIf(`{c}`, version, `{c}` != {{p:String}}), "
                          f"countIf(`{c}` != {{p:String}})" for c in columns)
        sql = (f"SELECT id, {picks} FROM {self.database}.`{table}` "
               f"WHERE id IN {{ids:Array(Int64)}} AND is_deleted = 0 GROUP BY id")
        rows = self._query(table, sql, {"ids": list(ids), "p": UNAVAILABLE_VALUE},
                           "previous values")
        found: dict[int, dict[str, str]] = {}
        for row in rows:
            values = {c: row[1 + 2 * n] for n, c in enumerate(columns) if row[2 + 2 * n]}
            if values:
                found[int(row[0])] = values
        return found

    def versions(self, table: str) -> Callable[[Collection[int]], dict[int, tuple[int, int]]]:
        """Per id, its latest stored version and whether that version is a delete (for
        `tombstones.resolve_tombstones`)."""
        def latest(ids: Collection[int]) -> dict[int, tuple[int, int]]:
            rows = self._query(
                table, f"SELECT id, max(version), argMax(is_deleted, version) "
                       f"FROM {self.database}.`{table}` WHERE id IN {{ids:Array(Int64)}} "
                       "GROUP BY id", {"ids": list(ids)}, "latest versions")
            return {int(i): (int(v), int(d)) for i, v, d in rows}
        return latest

    def _query(self, table: str, sql: str, parameters: dict[str, Any],
               what: str) -> list[Any]:
        from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

        try:
            if self._client is None:
                self._client = self._factory()
            return list(self._client.query(sql, parameters=parameters).result_rows)
        except (OperationalError, DatabaseError, OSError) as exc:
            self.close()
            raise ClickHouseUnavailable(
                f"ClickHouse did not answer the lookup of {table}'s {what}: "
                f"{' '.join(str(exc).split())[:300]}") from exc

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
