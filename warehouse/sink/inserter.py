"""Storing sealed batches in ClickHouse: tombstones resolved, TOAST placeholders filled,
inserts retried while ClickHouse is away, rows it refuses isolated into dead letters.

The runner owns the protocol (plan commit, insert, offset commit) and hands this part
the batches of one flush; nothing here touches Kafka, so a batch is stored exactly as
the runner planned it, under its offset-range token, however often it is retried.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from warehouse.errors import ClickHouseUnavailable
from warehouse.sink.added_columns import AddedColumns, add_column_statements
from warehouse.sink.batches import Batch, DeadRecord
from warehouse.sink.metrics import SinkMetrics
from warehouse.sink.placeholders import (
    PreviousValues,
    Unresolved,
    fill_placeholders,
    has_placeholder,
)
from warehouse.sink.routes import Route
from warehouse.sink.tombstones import LatestVersions, has_tombstone, resolve_tombstones
from warehouse.sink.writer import Backoff, ClickHouseWriter, RowsRefused
from warehouse.views import view_statements

log = logging.getLogger("boxoffice.sink")

PreviousValuesLookup = Callable[[str, Sequence[str]], PreviousValues]
"""(table, columns) -> lookup of the values stored for those columns, by id."""
LatestVersionsLookup = Callable[[str], LatestVersions]
"""table -> lookup of each id's latest stored version and whether it is deleted."""


class Stopped(Exception):
    """The stop event was set while the sink waited; nothing more is committed."""


InsertGuard = Callable[[Batch], bool]
"""Asked before every attempt to send a batch: False skips it (its partition went to
another sink during this flush); raising `lease.LeaseLost` abandons the flush."""


class Inserter:
    def __init__(self, *, writer: ClickHouseWriter, metrics: SinkMetrics,
                 write_metrics: Callable[[SinkMetrics], None] | None = None,
                 previous_values: PreviousValuesLookup | None = None,
                 latest_versions: LatestVersionsLookup | None = None,
                 guard: InsertGuard | None = None) -> None:
        self.writer = writer
        self.guard = guard
        self.metrics = metrics
        self._write_metrics = write_metrics
        self.previous_values = previous_values
        """None: nothing stored to look up (placeholders then become dead letters)."""
        self.latest_versions = latest_versions
        """None: nothing stored to look up (tombstones then delete only rows of the
        same flush)."""

    def insert_all(self, work: list[tuple[Route, list[Batch]]],
                   stop: threading.Event) -> dict[str, int]:
        """Store every batch of one flush; returns rows stored by table."""
        for route, _batches in work:
            if route.added is not None and route.added.pending():
                self._retry(stop, self._add_columns, route.added)
        self._resolve_tombstones(work, stop)
        self._fill_placeholders(work, stop)
        rows: dict[str, int] = {}
        for route, batches in work:
            for batch in batches:
                rows[route.table] = rows.get(route.table, 0) + self._insert(route.table,
                                                                            batch, stop)
        return rows

    def _fill_placeholders(self, work: list[tuple[Route, list[Batch]]],
                           stop: threading.Event) -> None:
        """Replace Debezium's TOAST placeholders in dimension batches by previous values
        (one lookup per table per flush); unresolvable records become dead letters."""
        by_table: dict[str, tuple[Route, list[Batch]]] = {}
        for route, batches in work:
            if route.text_columns and any(has_placeholder(b.lines) for b in batches):
                by_table.setdefault(route.table, (route, []))[1].extend(batches)
        for table, (route, batches) in by_table.items():
            lines = [line for batch in batches for line in batch.lines]
            filled = self._retry(stop, fill_placeholders, lines, route.text_columns,
                                 self._lookup(table, route.text_columns))
            for batch, results in _per_batch(batches, filled):
                kept_lines: list[bytes] = []
                kept_offsets: list[int] = []
                for result, line, offset in results:
                    if isinstance(result, Unresolved):
                        batch.dead.append(DeadRecord(offset, result.reason, None, line))
                        log.warning("%s[%d] offset %d: %s; it goes to dead letters",
                                    batch.topic, batch.partition, offset, result.reason)
                    else:
                        kept_lines.append(result)
                        kept_offsets.append(offset)
                batch.lines, batch.offsets = kept_lines, kept_offsets

    def _add_columns(self, added: AddedColumns) -> None:
        """Add the source's new columns to the dimension table, then re-create its view
        so that it shows them (`added_columns`). A statement ClickHouse refuses is logged
        and not tried again: the column's values are then not stored, but nothing stops."""
        columns = added.pending()
        database = self.writer.database
        for statement in [*add_column_statements(database, added.table, columns),
                          *view_statements(database, added.table)]:
            try:
                self.writer.command(statement)
            except RowsRefused as exc:
                log.error("%s: ClickHouse refused %r (%s); the source's new column(s) %s "
                          "are not stored", added.table, statement, exc, ", ".join(columns))
        added.added(columns)
        log.info("%s: the source's new column(s) %s now in dim_%s and the %s view",
                 added.table, ", ".join(columns), added.table, added.table)

    def _resolve_tombstones(self, work: list[tuple[Route, list[Batch]]],
                            stop: threading.Event) -> None:
        """Dimension tombstones into deletes, or into nothing (one lookup per table per
        flush); see `tombstones`."""
        by_table: dict[str, list[Batch]] = {}
        for route, batches in work:
            if any(has_tombstone(b.lines) for b in batches):
                by_table.setdefault(route.table, []).extend(batches)
        for table, batches in by_table.items():
            lines = [line for batch in batches for line in batch.lines]
            resolved = self._retry(stop, resolve_tombstones, lines,
                                   self._latest_versions(table))
            for batch, results in _per_batch(batches, resolved):
                kept = [(new, offset) for new, _, offset in results if new is not None]
                batch.lines = [line for line, _ in kept]
                batch.offsets = [offset for _, offset in kept]

    def _latest_versions(self, table: str) -> LatestVersions:
        if self.latest_versions is None:
            return lambda _ids: {}
        return self.latest_versions(table)

    def _lookup(self, table: str, columns: Sequence[str]) -> PreviousValues:
        if self.previous_values is None:
            return lambda _ids: {}
        return self.previous_values(table, columns)

    def _retry(self, stop: threading.Event, call: Callable[..., Any], *args: Any) -> Any:
        """`call(*args)`, retried with backoff while ClickHouse does not answer."""
        backoff = Backoff(stop=stop)
        while True:
            try:
                return call(*args)
            except ClickHouseUnavailable as exc:
                self.metrics.clickhouse_up = False
                log.warning("%s; retrying in %.1fs, nothing committed", exc, backoff.next)
                backoff.wait()
                if stop.is_set():
                    raise Stopped from exc

    def _insert(self, table: str, batch: Batch, stop: threading.Event) -> int:
        """Store a batch's rows; refused rows become dead letters. Returns rows stored."""
        if not batch.lines:
            return 0
        return self._insert_range(table, batch, 0, len(batch.lines), stop)

    def _insert_range(self, table: str, batch: Batch, lo: int, hi: int,
                      stop: threading.Event) -> int:
        """Rows lo..hi of a batch under their own token (the batch's when whole); a
        refused range is halved until the refused row is alone."""
        whole = lo == 0 and hi == len(batch.lines)
        tok = batch.token if whole else batch.token_of(batch.offsets[lo],
                                                       batch.offsets[hi - 1])
        backoff = Backoff(stop=stop)
        while True:
            if self.guard is not None and not self.guard(batch):
                return 0
            try:
                self.writer.insert(table, batch.lines[lo:hi], tok)
                if not self.metrics.clickhouse_up:
                    log.info("ClickHouse answers again; inserts resume")
                self.metrics.clickhouse_up = True
                return hi - lo
            except ClickHouseUnavailable as exc:
                self.metrics.clickhouse_up = False
                self.metrics.insert_retries_total += 1
                if self._write_metrics:
                    self._write_metrics(self.metrics)
                log.warning("%s; batch %s is kept and retried in %.1fs, nothing committed",
                            exc, tok, backoff.next)
                backoff.wait()
                if stop.is_set():
                    raise Stopped from exc
            except RowsRefused as exc:
                if hi - lo == 1:
                    offset = batch.offsets[lo]
                    batch.dead.append(DeadRecord(offset, f"ClickHouse refused the row: {exc}",
                                                 None, batch.lines[lo]))
                    log.warning("ClickHouse refused the record at %s[%d] offset %d; it goes "
                                "to dead letters", batch.topic, batch.partition, offset)
                    return 0
                mid = (lo + hi) // 2
                return (self._insert_range(table, batch, lo, mid, stop)
                        + self._insert_range(table, batch, mid, hi, stop))


def _per_batch(batches: list[Batch], results: Sequence[Any]
               ) -> Iterator[tuple[Batch, list[tuple[Any, bytes, int]]]]:
    """Results computed over the flattened lines of `batches`, handed back per batch
    as (result, the line it came from, its offset)."""
    position = 0
    for batch in batches:
        mine = results[position:position + len(batch.lines)]
        position += len(batch.lines)
        yield batch, list(zip(mine, batch.lines, batch.offsets, strict=True))
