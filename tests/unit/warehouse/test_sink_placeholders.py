"""Debezium's TOAST placeholder is replaced by the previous value, never stored."""

from __future__ import annotations

import json
from collections.abc import Collection

from warehouse.sink.placeholders import (
    UNAVAILABLE_VALUE,
    Unresolved,
    fill_placeholders,
    has_placeholder,
)

LONG = "x" * 8000


def band(i: int, name: str, version: int, *, fee: int = 100, deleted: int = 0) -> bytes:
    return json.dumps({"id": i, "version": version, "is_deleted": deleted,
                       "source_ts_ms": 0, "name": name, "fee": fee},
                      separators=(",", ":")).encode()


class FakeLookup:
    """The stored values, and every call made (the sink must ask once, only if needed)."""

    def __init__(self, stored: dict[int, dict[str, str]]) -> None:
        self.stored = stored
        self.calls: list[list[int]] = []

    def __call__(self, ids: Collection[int]) -> dict[int, dict[str, str]]:
        self.calls.append(sorted(ids))
        return {i: self.stored[i] for i in ids if i in self.stored}


def names(out: list[bytes | Unresolved]) -> list[str | None]:
    return [None if isinstance(o, Unresolved) else json.loads(o)["name"] for o in out]


def test_a_line_without_placeholder_is_passed_through_untouched() -> None:
    lines = [band(1, "a", 5), band(2, "b", 6)]
    lookup = FakeLookup({})
    assert not has_placeholder(lines)
    assert fill_placeholders(lines, ["name"], lookup) == lines
    assert lookup.calls == []


def test_the_stored_value_replaces_the_placeholder_with_one_lookup() -> None:
    lines = [band(1, UNAVAILABLE_VALUE, 7, fee=200), band(2, "b", 8),
             band(3, UNAVAILABLE_VALUE, 9)]
    lookup = FakeLookup({1: {"name": LONG}, 3: {"name": "three"}})
    assert has_placeholder(lines)
    out = fill_placeholders(lines, ["name"], lookup)
    assert names(out) == [LONG, "b", "three"]
    assert lookup.calls == [[1, 3]]
    first = json.loads(out[0])  # type: ignore[arg-type]
    assert (first["fee"], first["version"], first["is_deleted"]) == (200, 7, 0)


def test_an_earlier_record_of_the_same_batch_wins_over_the_stored_value() -> None:
    lines = [band(1, LONG, 5), band(1, UNAVAILABLE_VALUE, 6, fee=200),
             band(1, UNAVAILABLE_VALUE, 7, fee=100)]
    lookup = FakeLookup({1: {"name": "stale"}})
    assert names(fill_placeholders(lines, ["name"], lookup)) == [LONG, LONG, LONG]
    assert lookup.calls == []


def test_a_resolved_value_carries_on_to_later_records_and_renames_win() -> None:
    lines = [band(1, UNAVAILABLE_VALUE, 6), band(1, "renamed", 7),
             band(1, UNAVAILABLE_VALUE, 8), band(2, UNAVAILABLE_VALUE, 9)]
    lookup = FakeLookup({1: {"name": LONG}, 2: {"name": "two"}})
    assert names(fill_placeholders(lines, ["name"], lookup)) == \
        [LONG, "renamed", "renamed", "two"]
    assert lookup.calls == [[1, 2]]


def test_without_any_previous_value_the_record_is_unresolved_with_a_reason() -> None:
    lines = [band(4, UNAVAILABLE_VALUE, 6), band(5, "five", 7)]
    out = fill_placeholders(lines, ["name"], FakeLookup({}))
    assert isinstance(out[0], Unresolved)
    assert "name of id 4" in out[0].reason and UNAVAILABLE_VALUE in out[0].reason
    assert out[1] == lines[1]


def test_a_deleted_row_never_becomes_a_dead_letter() -> None:
    lines = [band(6, UNAVAILABLE_VALUE, 6, deleted=1)]
    assert names(fill_placeholders(lines, ["name"], FakeLookup({}))) == [""]


def test_a_name_merely_containing_the_placeholder_text_is_kept() -> None:
    text = f"the {UNAVAILABLE_VALUE} band"
    lines = [band(7, text, 6)]
    assert fill_placeholders(lines, ["name"], FakeLookup({})) == lines
