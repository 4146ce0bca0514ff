"""Property: whatever the interleaving, the signed facts sum to the join of the source.

Random histories of inserts, updates and deletes across tickets, purchases and
performances (after a snapshot), delivered in a random interleaving that keeps each row's
own order (as Kafka does per key), with re-deliveries injected, routed over 1-3 join
partitions and occasionally "crashed" (state rebuilt from its stored entries).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.changes import Change
from contracts.facts import FactRow
from contracts.tables import JOINED_TABLES
from stream_processors.changes import TOMBSTONE_LSN
from stream_processors.join import JoinState, content_of
from stream_processors.routing import route
from tests.support.cdc_model import (
    SALT,
    SourceModel,
    performance,
    purchase,
    ticket,
)

TABLES = JOINED_TABLES
IDS = {"tickets": 6, "purchases": 3, "performances": 3}


def _row(data: st.DataObject, table: str, row_id: int, *,
         tickets_move: bool = True) -> dict[str, Any]:
    pick = data.draw
    if table == "tickets":
        buyer = pick(st.integers(1, IDS["purchases"])) if tickets_move \
            else row_id % IDS["purchases"] + 1
        return ticket(row_id, pick(st.sampled_from([20, 25, 30])),
                      pick(st.integers(1, IDS["performances"])), buyer,
                      pick(st.sampled_from("AB")))
    if table == "purchases":
        return purchase(row_id, pick(st.integers(1, 2)), pick(st.integers(1, 2)))
    return performance(row_id, pick(st.integers(1, 2)), pick(st.integers(1, 2)),
                       pick(st.sampled_from([2021, 2022])))


def _history(data: st.DataObject, *, tickets_move: bool = True) -> SourceModel:
    model = SourceModel()
    for table in TABLES:
        for row_id in range(1, IDS[table] + 1):
            if data.draw(st.booleans()):
                model.snapshot(table, _row(data, table, row_id, tickets_move=tickets_move))
    for _ in range(data.draw(st.integers(0, 40))):
        table = data.draw(st.sampled_from(TABLES))
        row_id = data.draw(st.integers(1, IDS[table]))
        if data.draw(st.integers(0, 3)) == 0:
            model.delete(table, row_id)
        else:
            model.upsert(table, _row(data, table, row_id, tickets_move=tickets_move))
    return model


def _deliveries(data: st.DataObject, changes: list[Change]) -> list[Change]:
    """Interleave per-row queues in a random order, re-delivering some changes."""
    queues: dict[tuple[str, int], list[Change]] = {}
    for change in changes:
        queues.setdefault((change.table, change.key), []).append(change)
    pending = [q for q in queues.values() if q]
    out: list[Change] = []
    while pending:
        queue = pending[data.draw(st.integers(0, len(pending) - 1))]
        out.append(queue.pop(0))
        if not queue:
            pending.remove(queue)
        if data.draw(st.integers(0, 5)) == 0:
            out.append(out[data.draw(st.integers(0, len(out) - 1))])
    return out


def _signed_sum(facts: list[FactRow]) -> Counter[Any]:
    total: Counter[Any] = Counter()
    for fact in facts:
        total[content_of(fact)] += fact.sign
    return total


def _assert_sums_to_the_join(emitted: list[FactRow], model: SourceModel) -> None:
    """Every row withdrawn at most as often as emitted, the net equal to the source's
    join, and no delta identity twice (the sink deduplicates on it)."""
    total = _signed_sum(emitted)
    assert all(n >= 0 for n in total.values()), "a row was withdrawn more than emitted"
    assert +total == model.expected_join()
    identities = Counter((f.ticket_id, f.purchase_id, f.version, f.sign) for f in emitted)
    assert max(identities.values(), default=1) == 1, "a delta identity repeats"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_signed_facts_sum_to_the_join_of_the_final_state(data: st.DataObject) -> None:
    model = _history(data)
    deliveries = _deliveries(data, model.changes)
    partitions = data.draw(st.integers(1, 3))
    states = [JoinState(salt=SALT) for _ in range(partitions)]
    emitted: list[FactRow] = []
    crash_at = data.draw(st.integers(0, len(deliveries)))
    for i, change in enumerate(deliveries):
        if i == crash_at:  # a restart: every partition rebuilt from its stored entries
            states = [JoinState.restore(list(s.entries()), salt=SALT) for s in states]
        for partition, routed in route(change, partitions):
            emitted.extend(states[partition].apply(routed))

    _assert_sums_to_the_join(emitted, model)

    live = model.rows["tickets"].values()
    joined_ids = {c[0] for c in model.expected_join()}
    assert sum(s.pending for s in states) == sum(1 for t in live if t["id"] not in joined_ids)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_ticket_change_alternates_plus_and_minus(data: st.DataObject) -> None:
    """Per ticket, the emitted signs alternate +,-,+,... so a row is never doubled."""
    model = _history(data)
    state = JoinState(salt=SALT)
    per_ticket: dict[int, list[int]] = {}
    for change in _deliveries(data, model.changes):
        for fact in state.apply(change):
            per_ticket.setdefault(fact.ticket_id, []).append(fact.sign)
    for signs in per_ticket.values():
        assert signs == [1, -1] * (len(signs) // 2) + [1] * (len(signs) % 2)


def _behind_compaction(data: st.DataObject, changes: list[Change]) -> list[Change]:
    """The CDC log as a reader behind compaction finds it, in a random interleaving.

    Debezium writes a tombstone after every delete. Per row, the reader got a prefix of
    the log as written; compaction then kept only the last record of the rest: the
    latest image, or a tombstone alone where the row ended deleted (its delete, and
    everything before, compacted away)."""
    queues: dict[tuple[str, int], list[Change]] = {}
    for change in changes:
        queue = queues.setdefault((change.table, change.key), [])
        queue.append(change)
        if change.op == "d":
            queue.append(Change(change.table, change.key, "d", None, None, TOMBSTONE_LSN,
                                change.ts_ms))
    seen: list[list[Change]] = []
    for queue in queues.values():
        read = data.draw(st.integers(0, len(queue)))
        seen.append(queue[:read] + queue[-1:] if read < len(queue) else queue)
    out: list[Change] = []
    while any(seen):
        queue = data.draw(st.sampled_from([q for q in seen if q]))
        out.append(queue.pop(0))
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_reader_behind_compaction_still_sums_to_the_final_join(data: st.DataObject) -> None:
    """Tombstones stand for the deletes compaction removed: no ghost row is left.

    Tickets keep their purchase here. A ticket moved to a purchase of another join
    partition is withdrawn from the old one by the move's before image; a reader that
    compaction let skip the move never learns the old partition (docs/processors.md,
    "Behind compaction"). Tickets never change purchase in the festival's operations."""
    model = _history(data, tickets_move=False)
    partitions = data.draw(st.integers(1, 3))
    states = [JoinState(salt=SALT) for _ in range(partitions)]
    emitted: list[FactRow] = []
    for change in _behind_compaction(data, model.changes):
        for partition, routed in route(change, partitions):
            emitted.extend(states[partition].apply(routed))

    _assert_sums_to_the_join(emitted, model)
