"""Each rule of the join, one readable example at a time."""

from __future__ import annotations

from contracts.changes import Change
from contracts.facts import FactRow
from stream_processors.changes import TOMBSTONE_LSN
from stream_processors.join import JoinState
from tests.support.cdc_model import (
    SALT,
    SourceModel,
    performance,
    purchase,
    ticket,
)


def _signs(facts: list[FactRow]) -> list[tuple[int, int, int]]:
    return [(f.sign, f.ticket_id, f.ticket_price) for f in facts]


def _ready() -> tuple[SourceModel, JoinState]:
    src, state = SourceModel(), JoinState(salt=SALT)
    state.apply(src.upsert("performances", performance(1, band_id=7, venue_id=3)))
    state.apply(src.upsert("purchases", purchase(10, person_id=99)))
    return src, state


def test_ticket_insert_emits_one_complete_row() -> None:
    src, state = _ready()
    [fact] = state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    assert (fact.sign, fact.band_id, fact.venue_id, fact.festival_year) == (1, 7, 3, 2022)
    assert fact.version == src.lsn and fact.source_ts_ms == src.lsn * 10
    assert fact.person_key != "99" and len(fact.person_key) == 64


def test_price_update_withdraws_the_old_row_and_adds_the_new() -> None:
    src, state = _ready()
    state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    out = state.apply(src.upsert("tickets", ticket(1, 30, 1, 10)))
    assert _signs(out) == [(-1, 1, 25), (1, 1, 30)]
    assert out[0].version == out[1].version


def test_update_of_an_irrelevant_column_emits_nothing() -> None:
    src, state = _ready()
    state.apply(src.upsert("tickets", ticket(1, 25, 1, 10, ticketnum="A")))
    assert state.apply(src.upsert("tickets", ticket(1, 25, 1, 10, ticketnum="B"))) == []


def test_ticket_delete_withdraws_its_row() -> None:
    src, state = _ready()
    state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    assert _signs(state.apply(src.delete("tickets", 1))) == [(-1, 1, 25)]  # type: ignore[arg-type]


def test_purchase_and_performance_updates_re_emit_their_tickets() -> None:
    src, state = _ready()
    state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    state.apply(src.upsert("tickets", ticket(2, 20, 1, 10)))
    out = state.apply(src.upsert("purchases", purchase(10, person_id=99, day=2)))
    assert _signs(out) == [(-1, 1, 25), (1, 1, 25), (-1, 2, 20), (1, 2, 20)]
    out = state.apply(src.upsert("performances", performance(1, band_id=8, venue_id=3)))
    assert [f.band_id for f in out] == [7, 8, 7, 8]


def test_purchase_delete_withdraws_once_even_if_tickets_are_deleted_too() -> None:
    src, state = _ready()
    state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    state.apply(src.upsert("tickets", ticket(2, 20, 1, 10)))
    assert state.apply(src.delete("tickets", 1)) != []  # type: ignore[arg-type]
    assert _signs(state.apply(src.delete("purchases", 10))) == [(-1, 2, 20)]  # type: ignore[arg-type]
    assert state.apply(src.delete("tickets", 2)) == []  # type: ignore[arg-type]


def test_a_ticket_waits_for_its_purchase_and_counts_as_pending() -> None:
    src, state = SourceModel(), JoinState(salt=SALT)
    assert state.apply(src.upsert("tickets", ticket(1, 25, 1, 10))) == []
    assert state.apply(src.upsert("performances", performance(1, 7, 3))) == []
    assert state.pending == 1
    assert _signs(state.apply(src.upsert("purchases", purchase(10, 99)))) == [(1, 1, 25)]
    assert state.pending == 0


def test_re_delivered_and_stale_changes_change_nothing() -> None:
    src, state = _ready()
    first = src.upsert("tickets", ticket(1, 25, 1, 10))
    assert state.apply(first) != []
    state.apply(src.upsert("tickets", ticket(1, 30, 1, 10)))
    assert state.apply(first) == []  # older LSN than the state's
    assert state.stats.duplicates == 1


def test_snapshot_rows_share_an_lsn_but_are_deduplicated_per_row() -> None:
    src, state = SourceModel(), JoinState(salt=SALT)
    rows = [src.snapshot("performances", performance(1, 7, 3)),
            src.snapshot("purchases", purchase(10, 99)),
            src.snapshot("tickets", ticket(1, 25, 1, 10)),
            src.snapshot("tickets", ticket(2, 20, 1, 10))]
    out = [f for change in rows for f in state.apply(change)]
    assert _signs(out) == [(1, 1, 25), (1, 2, 20)]
    assert [f for change in rows for f in state.apply(change)] == []


def test_restored_state_continues_where_it_stopped() -> None:
    src, state = _ready()
    state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    restored = JoinState.restore(list(state.entries()), salt=SALT)
    assert _signs(restored.apply(src.delete("tickets", 1))) == [(-1, 1, 25)]  # type: ignore[arg-type]


def _tombstone(table: str, row_id: int) -> Change:
    return Change(table, row_id, "d", None, None, TOMBSTONE_LSN, 5)


def test_a_tombstone_after_its_delete_does_nothing() -> None:
    src, state = _ready()
    state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    assert state.apply(src.delete("tickets", 1)) != []  # type: ignore[arg-type]
    assert state.apply(_tombstone("tickets", 1)) == []
    assert state.apply(_tombstone("tickets", 2)) == []  # never seen: nothing, no entry
    assert "t:2" not in dict(state.entries())


def test_a_tombstone_alone_withdraws_the_row_whose_delete_compaction_removed() -> None:
    src, state = _ready()
    [added] = state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    [withdrawn] = state.apply(_tombstone("tickets", 1))
    assert (withdrawn.sign, withdrawn.ticket_price) == (-1, 25)
    assert withdrawn.version == added.version + 1
    assert state.apply(_tombstone("tickets", 1)) == []  # again: already gone


def test_a_purchase_tombstone_holds_its_tickets_back() -> None:
    src, state = _ready()
    state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    assert _signs(state.apply(_tombstone("purchases", 10))) == [(-1, 1, 25)]
    assert state.pending == 1
