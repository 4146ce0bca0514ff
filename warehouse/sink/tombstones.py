"""Turn a dimension's tombstones into deletes, for a sink behind compaction.

Debezium follows every delete with a tombstone (the key, no value). Compaction keeps only
a key's latest record, so a sink that was behind may find the tombstone of a deleted
row without the delete before it; ignoring it would keep the row forever. A tombstone
says only "this id is gone", without an LSN, so it becomes a delete whose version is one
more than the id's latest: from an earlier line of the same flush, else from what is
stored (one lookup per table per flush). For an id already deleted, or never stored, it
is nothing. That is every tombstone of a sink that is not behind, since the delete came
first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import orjson

MARK = b'"tombstone":1'
"""What the decoder puts in a tombstone's line until it is resolved here."""

LatestVersions = Callable[[Collection[int]], dict[int, tuple[int, int]]]
"""ids -> {id: (latest version, its is_deleted)}, for the ids stored at all."""


def tombstone_line(row_id: int, empty: dict[str, Any]) -> bytes:
    """The decoder's placeholder line for a tombstone of `row_id` (`empty`: the
    dimension's columns as a deleted row carries them)."""
    return orjson.dumps({"id": row_id, **empty, "version": 0, "is_deleted": 1,
                         "source_ts_ms": 0, "tombstone": 1})


def has_tombstone(lines: Sequence[bytes]) -> bool:
    return any(MARK in line for line in lines)


def resolve_tombstones(lines: Sequence[bytes], latest: LatestVersions) -> list[bytes | None]:
    """`lines` (one dimension's rows in offset order) with each tombstone replaced by the
    delete it stands for, or by None where there is nothing to delete."""
    rows: list[dict[str, Any] | None] = [
        orjson.loads(line) if MARK in line else None for line in lines]
    wanted = {row["id"] for row in rows if row is not None}
    state = dict(latest(sorted(wanted))) if wanted else {}
    out: list[bytes | None] = []
    for line, row in zip(lines, rows, strict=True):
        if row is None:
            _follow(state, orjson.loads(line), wanted)
            out.append(line)
            continue
        current = state.get(row["id"])
        if current is None or current[1]:
            out.append(None)
            continue
        del row["tombstone"]
        row["version"] = current[0] + 1
        state[row["id"]] = (row["version"], 1)
        out.append(orjson.dumps(row))
    return out


def _follow(state: dict[int, tuple[int, int]], row: dict[str, Any],
            wanted: set[int]) -> None:
    """An ordinary line of the flush: the newest version of its id so far."""
    if row["id"] not in wanted:
        return
    current = state.get(row["id"])
    if current is None or row["version"] >= current[0]:
        state[row["id"]] = (int(row["version"]), int(row["is_deleted"]))
