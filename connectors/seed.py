"""`boxoffice seed`: load the generated history into the source tables through COPY.

One transaction for the whole load, so a failed seed leaves nothing half-written. Rows are
formatted in chunks and streamed into COPY as they are produced, so memory stays at the
size of the generated columns and the progress callback moves as the server ingests.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from psycopg2 import sql
from psycopg2.extensions import cursor as Cursor

from connectors.db import connect
from connectors.errors import SourceError
from connectors.generator import Columns, generate
from contracts.settings import Settings
from contracts.tables import BUSINESS_TABLES

CHUNK_ROWS = 50_000
SeedProgress = Callable[[str, int, int], None]
"""Called with (table, rows written so far, rows in the table)."""


@dataclass(frozen=True)
class SeedResult:
    rows: dict[str, int]
    generate_seconds: float
    load_seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def seed(settings: Settings, *, scale: float, seed_value: int = 0, replace: bool = False,
         progress: SeedProgress | None = None) -> SeedResult:
    """Generate the history for (scale, seed) and load it; refuses a non-empty source
    unless `replace`, which truncates the business tables first."""
    started = time.perf_counter()
    history = generate(scale, seed_value)
    generated = time.perf_counter()
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            _check_empty(cur, settings, replace)
            _skip_foreign_key_triggers(cur)
            for table in BUSINESS_TABLES:
                _copy_table(cur, settings, table, history.table(table), progress)
            for table in BUSINESS_TABLES:
                _reset_identity(cur, settings, table)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL("analyze {}").format(sql.SQL(", ").join(
                sql.Identifier(settings.source_schema, t) for t in BUSINESS_TABLES)))
    finally:
        conn.close()
    return SeedResult(rows=history.row_counts(), generate_seconds=generated - started,
                      load_seconds=time.perf_counter() - generated)


def _skip_foreign_key_triggers(cur: Cursor) -> None:
    """Skip the per-row foreign-key checks for this transaction when we may.

    The generated history is consistent by construction (ids from 1, every reference
    drawn from existing ids; unit tests check it), and the row-by-row checks are most of
    the load time. Only a superuser may set session_replication_role; other owners load
    with the checks on, just slower.
    """
    cur.execute("select rolsuper from pg_roles where rolname = current_user")
    row = cur.fetchone()
    if row and row[0]:
        cur.execute("set local session_replication_role = replica")


def _check_empty(cur: Cursor, settings: Settings, replace: bool) -> None:
    schema = settings.source_schema
    tables = sql.SQL(", ").join(sql.Identifier(schema, t) for t in BUSINESS_TABLES)
    if replace:
        cur.execute(sql.SQL("truncate {} restart identity").format(tables))
        return
    for table in BUSINESS_TABLES:
        cur.execute(sql.SQL("select exists (select 1 from {})").format(
            sql.Identifier(schema, table)))
        if cur.fetchone()[0]:
            raise SourceError(
                f"source: {schema}.{table} already has rows; seed loads a fresh history "
                "only. Use `boxoffice seed --replace` to truncate the festival tables "
                "first (the connector then sees a TRUNCATE; re-snapshot afterwards)."
            )


def _copy_table(cur: Cursor, settings: Settings, table: str, columns: Columns,
                progress: SeedProgress | None) -> None:
    names = list(columns)
    total = len(columns[names[0]])
    statement = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(settings.source_schema, table),
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
    ).as_string(cur)
    reader = _ChunkReader(_chunks(columns, names, total), table, total, progress)
    if progress:
        progress(table, 0, total)
    cur.copy_expert(statement, reader, size=1 << 20)


def _column_text(values: np.ndarray) -> list[str]:
    """COPY text of one column chunk: ISO-8601 UTC for timestamps, str otherwise."""
    if np.issubdtype(values.dtype, np.datetime64):
        return list(np.datetime_as_string(values, unit="s", timezone="UTC"))
    if values.dtype == object:
        return [_escape(v) for v in values.tolist()]
    return [str(v) for v in values.tolist()]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _chunks(columns: Columns, names: list[str], total: int) -> Iterator[tuple[str, int]]:
    for start in range(0, total, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, total)
        texts = [_column_text(columns[n][start:stop]) for n in names]
        lines = ["\t".join(row) for row in zip(*texts, strict=True)]
        yield "\n".join(lines) + "\n", stop - start


class _ChunkReader(io.TextIOBase):
    """A file-like view over formatted chunks, as psycopg2's copy_expert wants to read."""

    def __init__(self, chunks: Iterator[tuple[str, int]], table: str, total: int,
                 progress: SeedProgress | None) -> None:
        self._chunks = chunks
        self._buffer = ""
        self._table = table
        self._total = total
        self._done = 0
        self._progress = progress

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        want = size if size is not None and size >= 0 else None
        while want is None or len(self._buffer) < want:
            try:
                text, rows = next(self._chunks)
            except StopIteration:
                break
            self._buffer += text
            self._done += rows
            if self._progress:
                self._progress(self._table, self._done, self._total)
        if want is None:
            out, self._buffer = self._buffer, ""
        else:
            out, self._buffer = self._buffer[:want], self._buffer[want:]
        return out


def _reset_identity(cur: Cursor, settings: Settings, table: str) -> None:
    """Move the id sequence past the loaded ids so live inserts do not collide."""
    qualified = f"{settings.source_schema}.{table}"
    cur.execute(
        sql.SQL("select setval(pg_get_serial_sequence(%s, 'id'), "
                "coalesce((select max(id) from {}), 0) + 1, false)").format(
            sql.Identifier(settings.source_schema, table)),
        (qualified,))
