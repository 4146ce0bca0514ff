"""Dimension tombstones become deletes only where a row still lives (pure logic)."""

from __future__ import annotations

import json

from warehouse.sink.records import dimension_decoder
from warehouse.sink.tombstones import has_tombstone, resolve_tombstones


def band(row_id: int, version: int, deleted: int = 0) -> bytes:
    return json.dumps({"id": row_id, "name": "" if deleted else "B", "fee": None,
                       "version": version, "is_deleted": deleted,
                       "source_ts_ms": 1}).encode()


def tombstone(row_id: int) -> bytes:
    line = dimension_decoder("bands")(json.dumps({"id": row_id}).encode(), None)
    assert line is not None
    return line


def test_a_tombstone_decodes_to_a_marked_line() -> None:
    assert has_tombstone([tombstone(3)]) and not has_tombstone([band(3, 10)])


def test_a_stored_live_row_is_deleted_one_version_later() -> None:
    [line] = resolve_tombstones([tombstone(3)], lambda ids: {3: (40, 0)})
    assert line is not None
    row = json.loads(line)
    assert (row["id"], row["version"], row["is_deleted"]) == (3, 41, 1)
    assert "tombstone" not in row


def test_nothing_to_delete_gives_nothing() -> None:
    """Already deleted (the delete came first) or never stored: no line."""
    assert resolve_tombstones([tombstone(3)], lambda ids: {3: (40, 1)}) == [None]
    assert resolve_tombstones([tombstone(3)], lambda ids: {}) == [None]


def test_earlier_lines_of_the_flush_come_before_what_is_stored() -> None:
    lines = [band(3, 50), tombstone(3), band(4, 60, deleted=1), tombstone(4)]
    out = resolve_tombstones(lines, lambda ids: {3: (40, 0), 4: (30, 0)})
    assert out[0] == lines[0] and out[2] == lines[2]
    assert json.loads(out[1] or b"{}")["version"] == 51
    assert out[3] is None  # deleted in this very flush


def test_a_later_insert_of_the_same_id_is_kept() -> None:
    lines = [tombstone(3), band(3, 90)]
    out = resolve_tombstones(lines, lambda ids: {3: (40, 0)})
    assert json.loads(out[0] or b"{}")["version"] == 41
    assert out[1] == lines[1]


def test_the_lookup_is_asked_once_for_the_tombstoned_ids_only() -> None:
    asked: list[list[int]] = []

    def latest(ids: object) -> dict[int, tuple[int, int]]:
        asked.append(sorted(ids))  # type: ignore[call-overload]
        return {}

    resolve_tombstones([band(1, 5), tombstone(2), tombstone(3)], latest)
    assert asked == [[2, 3]]
