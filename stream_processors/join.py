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
included (a tombstone entry), and a change whose LSN is not newer is dropped. A Debezium
snapshot gives every record the same LSN, which is fine: the comparison is per row, and
the same row appears once per snapshot, so a second copy of it is a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from stream_processors.changes import Change
from stream_processors.facts import FactRow, person_key

Entry = tuple[Any, ...]
"""A stored row: (lsn, *columns) while it exists, (lsn,) once deleted. Tickets carry their
last emitted version second: (lsn, version, price, performance_id, purchase_id) or
(lsn, version) once deleted."""

Content = tuple[int, int, int, int, int, str, int, str, str, int]
"""A fact row without sign, version and source time: what a retraction must repeat."""

PREFIX = {"tickets": "t", "purchases": "p", "performances": "f"}
TABLE_OF_PREFIX = {v: k for k, v in PREFIX.items()}

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
        rows = self._rows[change.table]
        known = rows.get(change.key)
        if known is not None and change.lsn <= known[0]:
            self.stats.duplicates += 1
            return []
        affected = self._affected(change)
        old = [self._content(t) for t in affected]
        entry = self._entry(change)
        self._store(change.table, change.key, entry, known)
        out: list[FactRow] = []
        for ticket_id, before in zip(affected, old, strict=True):
            after = self._content(ticket_id)
            self._track_held(ticket_id, after)
            if before == after:
                continue
            version = self._bump_version(ticket_id, change.lsn)
            if before is not None:
                out.append(_fact(before, -1, version, change.ts_ms))
            if after is not None:
                out.append(_fact(after, 1, version, change.ts_ms))
        self.stats.applied += 1
        self.stats.emitted += len(out)
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
    def _affected(self, change: Change) -> list[int]:
        if change.table == "tickets":
            return [change.key]
        index = self._by_purchase if change.table == "purchases" else self._by_performance
        return sorted(index.get(change.key, ()))

    def _entry(self, change: Change) -> Entry:
        row = change.after
        if change.table == "tickets":
            known = self._rows["tickets"].get(change.key)
            version = known[1] if known is not None else 0
            if row is None:
                return (change.lsn, version)
            return (change.lsn, version, row["price"], row["performance_id"],
                    row["purchase_id"])
        if row is None:
            return (change.lsn,)
        if change.table == "purchases":
            person = row["person_id"]
            key = person_key(person, self._salt) if person is not None else None
            return (change.lsn, row["purchase_date"], key)
        return (change.lsn, row["performance_start"], row["band_id"], row["venue_id"])

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
        ticket = self._rows["tickets"].get(ticket_id)
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
        if None in (price, purchase_date, key, start, band_id, venue_id):
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


def _unindex(index: dict[int, set[int]], row_id: int, ticket_id: int) -> None:
    members = index.get(row_id)
    if members is not None:
        members.discard(ticket_id)
        if not members:
            del index[row_id]


def _fact(content: Content, sign: int, version: int, ts_ms: int) -> FactRow:
    (ticket_id, purchase_id, performance_id, band_id, venue_id, key, price, purchase_date,
     start, year) = content
    return FactRow(ticket_id=ticket_id, purchase_id=purchase_id,
                   performance_id=performance_id, band_id=band_id, venue_id=venue_id,
                   person_key=key, ticket_price=price, purchase_date=purchase_date,
                   performance_start=start, festival_year=year, sign=sign, version=version,
                   source_ts_ms=ts_ms)


def content_of(fact: FactRow) -> Content:
    """The part of a fact row a retraction repeats (everything but sign, version, time)."""
    return (fact.ticket_id, fact.purchase_id, fact.performance_id, fact.band_id,
            fact.venue_id, fact.person_key, fact.ticket_price, fact.purchase_date,
            fact.performance_start, fact.festival_year)
