"""The incremental join of tickets, purchases and performances, as signed deltas.

Pure logic: no Kafka, no Faust. `JoinState.apply(change)` takes one `Change` and returns
the `FactRow` deltas it causes. The invariant the property tests check: after any
sequence of changes (per-row order kept, re-deliveries included), the signed sum of
everything emitted equals the inner join of the current state.

How each change is handled, in one rule: collect the tickets the change can affect
(the ticket itself, or the tickets of the purchase or performance), compute their fact
rows before and after applying it, and emit ``-1 old`` / ``+1 new`` only where the row's
content changed. So an update that touches nothing the facts carry (``ticketnum``)
emits nothing; a purchase deleted after its tickets were deleted withdraws nothing twice;
a ticket whose purchase or performance has not arrived yet is "held" (no row) and gets
its ``+1`` when the missing row arrives.

Versions: a delta's ``version`` is the LSN of the change that caused it, raised to one more
than the ticket's previous version when that LSN is not newer (a snapshot row, or an older
change of another table processed later). So versions strictly increase per ticket within
a join partition, the ``-1``/``+1`` pair of one change shares one, and
``(ticket_id, purchase_id, version, sign)`` identifies a delta (a ticket lives in the
partition of its purchase, so ``purchase_id`` tells partitions apart when a ticket moves).
A replay after a crash reproduces exactly the same deltas, which the sink deduplicates on.

Re-deliveries: every row keeps the LSN of the last change applied to it, deleted rows
included (a deletion marker), and a change whose LSN is not newer is dropped.

Tombstones: Kafka's compaction keeps only the latest record of a key, so a reader behind
it may find a deleted row's tombstone (key, no value) without the delete before it. A
tombstone arrives as a delete with `TOMBSTONE_LSN` and deletes the row if it still lives
here, whatever LSN the row holds (its own LSN is kept, the version goes up by one); on a
row already deleted or never seen it does nothing, which is every tombstone of a reader
that is not behind. A Debezium
snapshot gives every record the same LSN, which is fine: the comparison is per row, and
the same row appears once per snapshot, so a second copy of it is a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.changes import Change
from contracts.facts import FactRow, person_key
from stream_processors.changes import REQUIRED_COLUMNS, TOMBSTONE_LSN

Entry = tuple[Any, ...]
"""A stored row: (lsn, *columns) while it exists, (lsn,) once deleted. Tickets carry their
last emitted version second: (lsn, version, price, performance_id, purchase_id) or
(lsn, version) once deleted."""

Content = tuple[int, int, int, int, int, str, int | str, str, str, int]
"""A fact row without sign, version and source time: what a retraction must repeat."""

PREFIX = {"tickets": "t", "purchases": "p", "performances": "f"}
TABLE_OF_PREFIX = {v: k for k, v in PREFIX.items()}

Delta = tuple[Any, ...]
"""A delta as plain values in `FactRow.FIELDS` order: the content, sign, version and
source time (``FactRow(*delta)`` is the record)."""

Writer = Callable[[str, Entry], None]
"""Receives every entry the state stores ("t:42", entry): the changelog hook."""


@dataclass
class JoinStats:
    applied: int = 0
    duplicates: int = 0
    emitted: int = 0


class JoinState:
    """The join state of one partition (or of everything, in tests)."""

    def __init__(self, *, salt: str, writer: Writer | None = None) -> None:
        self._salt = salt
        self._writer = writer
        self._rows: dict[str, dict[int, Entry]] = {t: {} for t in PREFIX}
        self._by_purchase: dict[int, set[int]] = {}
        self._by_performance: dict[int, set[int]] = {}
        self._held: set[int] = set()
        self.stats = JoinStats()

    # --- the one operation ---------------------------------------------------------------
    def apply(self, change: Change) -> list[FactRow]:
        """Apply one change; the deltas it causes (empty for duplicates and no-ops)."""
        values = None
        if change.after is not None:
            values = [change.after[c] for c in REQUIRED_COLUMNS[change.table]]
        return [FactRow(*delta) for delta in
                self.apply_values(change.table, change.key, values, change.lsn,
                                  change.ts_ms)]

    def apply_values(self, table: str, key: int, values: Sequence[Any] | None, lsn: int,
                     ts_ms: int) -> list[Delta]:
        """`apply` on plain values, for the worker's hot loop: the after image as a list
        in `REQUIRED_COLUMNS` order (None for a delete), deltas as `Delta` tuples."""
        known = self._rows[table].get(key)
        if lsn == TOMBSTONE_LSN:
            if not _exists(table, known):
                return []  # deleted already (the delete came first), or never seen
            assert known is not None
            lsn = known[0]  # a delete the state had not seen: compaction removed it
        elif known is not None and lsn <= known[0]:
            self.stats.duplicates += 1
            return []
        if table == "tickets":
            out = self._apply_ticket(key, known, values, lsn, ts_ms)
        else:
            out = self._apply_parent(table, key, known, values, lsn, ts_ms)
        self.stats.applied += 1
        self.stats.emitted += len(out)
        return out

    def _apply_ticket(self, ticket_id: int, known: Entry | None,
                      values: Sequence[Any] | None, lsn: int, ts_ms: int) -> list[Delta]:
        """A ticket change affects that ticket only: its row before and after."""
        version = known[1] if known is not None else 0
        before = self._content_of(ticket_id, known)
        entry: Entry = (lsn, version) if values is None else \
            (lsn, version, values[1], values[2], values[3])
        after = self._content_of(ticket_id, entry)
        out: list[Delta] = []
        if before != after:
            version = lsn if lsn > version else version + 1
            entry = (lsn, version, *entry[2:])
            if before is not None:
                out.append((*before, -1, version, ts_ms))
            if after is not None:
                out.append((*after, 1, version, ts_ms))
        self._store("tickets", ticket_id, entry, known)
        if after is None and len(entry) > 2:
            self._held.add(ticket_id)
        else:
            self._held.discard(ticket_id)
        return out

    def _apply_parent(self, table: str, key: int, known: Entry | None,
                      values: Sequence[Any] | None, lsn: int, ts_ms: int) -> list[Delta]:
        """A purchase or performance change: every ticket of it, before and after."""
        index = self._by_purchase if table == "purchases" else self._by_performance
        affected = sorted(index.get(key, ()))
        old = [self._content(t) for t in affected]
        self._store(table, key, self._parent_entry(table, values, lsn), known)
        out: list[Delta] = []
        for ticket_id, before in zip(affected, old, strict=True):
            after = self._content(ticket_id)
            self._track_held(ticket_id, after)
            if before == after:
                continue
            version = self._bump_version(ticket_id, lsn)
            if before is not None:
                out.append((*before, -1, version, ts_ms))
            if after is not None:
                out.append((*after, 1, version, ts_ms))
        return out

    # --- views -----------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Tickets that exist but wait for their purchase or performance."""
        return len(self._held)

    def joined(self) -> Iterator[Content]:
        """The current join (what the emitted deltas must sum to)."""
        for ticket_id, entry in self._rows["tickets"].items():
            if len(entry) > 2:
                content = self._content(ticket_id)
                if content is not None:
                    yield content

    def entries(self) -> Iterator[tuple[str, Entry]]:
        for table, rows in self._rows.items():
            for key, entry in rows.items():
                yield f"{PREFIX[table]}:{key}", entry

    @classmethod
    def restore(cls, items: Iterable[tuple[str, Sequence[Any]]], *, salt: str,
                writer: Writer | None = None) -> JoinState:
        """Rebuild a state (indexes included) from stored entries, e.g. a changelog."""
        state = cls(salt=salt)
        for key, raw in items:
            prefix, _, row_id = key.partition(":")
            state._store(TABLE_OF_PREFIX[prefix], int(row_id), tuple(raw), None)
        for ticket_id, entry in state._rows["tickets"].items():
            if len(entry) > 2:
                state._track_held(ticket_id, state._content(ticket_id))
        state._writer = writer
        return state

    # --- internals -------------------------------------------------------------------------
    def _parent_entry(self, table: str, values: Sequence[Any] | None, lsn: int) -> Entry:
        if values is None:
            return (lsn,)
        if table == "purchases":
            person = values[2]
            key = person_key(person, self._salt) if person is not None else None
            return (lsn, values[1], key)
        return (lsn, values[1], values[2], values[3])

    def _store(self, table: str, key: int, entry: Entry, known: Entry | None) -> None:
        self._rows[table][key] = entry
        if table == "tickets":
            if known is not None and len(known) > 2:
                _unindex(self._by_performance, known[3], key)
                _unindex(self._by_purchase, known[4], key)
            if len(entry) > 2:
                self._by_performance.setdefault(entry[3], set()).add(key)
                self._by_purchase.setdefault(entry[4], set()).add(key)
            else:
                self._held.discard(key)
        if self._writer is not None:
            self._writer(f"{PREFIX[table]}:{key}", entry)

    def _content(self, ticket_id: int) -> Content | None:
        return self._content_of(ticket_id, self._rows["tickets"].get(ticket_id))

    def _content_of(self, ticket_id: int, ticket: Entry | None) -> Content | None:
        """The fact row of a ticket with this entry, None while it cannot be joined."""
        if ticket is None or len(ticket) == 2:
            return None
        _, _, price, performance_id, purchase_id = ticket
        purchase = self._rows["purchases"].get(purchase_id)
        performance = self._rows["performances"].get(performance_id)
        if purchase is None or len(purchase) == 1 or performance is None or \
                len(performance) == 1:
            return None
        _, purchase_date, key = purchase
        _, start, band_id, venue_id = performance
        if price is None or purchase_date is None or key is None or start is None or \
                band_id is None or venue_id is None:
            return None
        return (ticket_id, purchase_id, performance_id, band_id, venue_id, key, price,
                purchase_date, start, int(start[:4]))

    def _bump_version(self, ticket_id: int, lsn: int) -> int:
        """The next version of a ticket's deltas (strictly increasing), stored with it."""
        entry = self._rows["tickets"][ticket_id]
        version = lsn if lsn > entry[1] else entry[1] + 1
        bumped = (entry[0], version, *entry[2:])
        self._rows["tickets"][ticket_id] = bumped
        if self._writer is not None:
            self._writer(f"t:{ticket_id}", bumped)
        return version

    def _track_held(self, ticket_id: int, content: Content | None) -> None:
        ticket = self._rows["tickets"].get(ticket_id)
        if content is None and ticket is not None and len(ticket) > 2:
            self._held.add(ticket_id)
        else:
            self._held.discard(ticket_id)


def _exists(table: str, entry: Entry | None) -> bool:
    """The entry is a live row (not a deletion marker, not absent)."""
    return entry is not None and len(entry) > (2 if table == "tickets" else 1)


def _unindex(index: dict[int, set[int]], row_id: int, ticket_id: int) -> None:
    members = index.get(row_id)
    if members is not None:
        members.discard(ticket_id)
        if not members:
            del index[row_id]


def content_of(fact: FactRow) -> Content:
    """The part of a fact row a retraction repeats (everything but sign, version, time)."""
    return (fact.ticket_id, fact.purchase_id, fact.performance_id, fact.band_id,
            fact.venue_id, fact.person_key, fact.ticket_price, fact.purchase_date,
            fact.performance_start, fact.festival_year)
