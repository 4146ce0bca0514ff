"""A tiny model of the ticketing database that writes Debezium-shaped changes.

Shared by the property tests, the example tests and the benchmark: it applies
inserts, updates and deletes to dict tables, gives each change the next LSN and records
the `Change` the connector would publish. `expected_join` is the ground truth the signed
facts must sum to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from contracts.changes import Change
from contracts.facts import person_key
from stream_processors.join import Content

SALT = "test-salt"


@dataclass
class SourceModel:
    rows: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {"tickets": {}, "purchases": {}, "performances": {}})
    lsn: int = 1000
    changes: list[Change] = field(default_factory=list)

    def snapshot(self, table: str, row: dict[str, Any], *, lsn: int = 500) -> Change:
        """A row that existed before streaming began (op r, the snapshot's shared LSN)."""
        self.rows[table][row["id"]] = dict(row)
        return self._record(Change(table, row["id"], "r", None, dict(row), lsn, 1))

    def upsert(self, table: str, row: dict[str, Any]) -> Change:
        before = self.rows[table].get(row["id"])
        self.rows[table][row["id"]] = dict(row)
        self.lsn += 8
        op = "u" if before is not None else "c"
        return self._record(Change(table, row["id"], op,
                                   dict(before) if before else None, dict(row),
                                   self.lsn, self.lsn * 10))

    def delete(self, table: str, row_id: int) -> Change | None:
        before = self.rows[table].pop(row_id, None)
        if before is None:
            return None
        self.lsn += 8
        return self._record(Change(table, row_id, "d", before, None, self.lsn,
                                   self.lsn * 10))

    def _record(self, change: Change) -> Change:
        self.changes.append(change)
        return change

    def expected_join(self) -> Counter[Content]:
        out: Counter[Content] = Counter()
        for t in self.rows["tickets"].values():
            p = self.rows["purchases"].get(t["purchase_id"])
            f = self.rows["performances"].get(t["performance_id"])
            if p is None or f is None:
                continue
            out[(t["id"], p["id"], f["id"], f["band_id"], f["venue_id"],
                 person_key(p["person_id"], SALT), t["price"], p["purchase_date"],
                 f["performance_start"], int(f["performance_start"][:4]))] += 1
        return out


def ticket(id: int, price: int, performance_id: int, purchase_id: int,
           ticketnum: str = "A") -> dict[str, Any]:
    return {"id": id, "price": price, "performance_id": performance_id,
            "purchase_id": purchase_id, "ticketnum": ticketnum}


def purchase(id: int, person_id: int, day: int = 1) -> dict[str, Any]:
    return {"id": id, "person_id": person_id,
            "purchase_date": f"2022-09-{day:02d}T10:00:00.000000Z"}


def performance(id: int, band_id: int, venue_id: int, year: int = 2022) -> dict[str, Any]:
    return {"id": id, "band_id": band_id, "venue_id": venue_id,
            "performance_start": f"{year}-10-07T19:00:00.000000Z"}
