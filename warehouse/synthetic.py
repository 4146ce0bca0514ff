"""Synthetic festival data with its own ground truth, for tests and benchmarks.

`Workload` plays the processors' part: it keeps every ticket's current fact row and emits
the signed deltas a change produces (insert: +1; update: -1 old, +1 new; delete: -1 old;
moving a performance: -1/+1 for each of its tickets). `truth()` computes every aggregate
from the current rows in plain Python, independently of ClickHouse.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from contracts.columns import add_amount, exact_amount
from contracts.facts import FactRow

EPOCH = datetime(2022, 3, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Truth:
    by_performance: dict[int, tuple[int, int | Decimal]]
    by_day_venue_band: dict[tuple[str, int, int], tuple[int, int | Decimal]]
    by_minute_venue: dict[tuple[str, int], tuple[int, int | Decimal]]
    tickets: int
    revenue: int | Decimal
    current: dict[int, FactRow]


@dataclass
class Performance:
    id: int
    band_id: int
    venue_id: int
    start: str


@dataclass
class Workload:
    seed: int = 7
    bands: dict[int, str] = field(default_factory=dict)
    venues: dict[int, tuple[str, int]] = field(default_factory=dict)
    performances: dict[int, Performance] = field(default_factory=dict)
    current: dict[int, FactRow] = field(default_factory=dict)
    version: int = 1_000

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.next_ticket = 1

    def _next_version(self) -> int:
        self.version += 16
        return self.version

    def add_dimensions(self, *, bands: int = 12, venues: int = 4,
                       performances: int = 30) -> None:
        for i in range(1, bands + 1):
            self.bands[i] = f"Band {i}"
        for i in range(1, venues + 1):
            self.venues[i] = (f"Stage {i}", 1000 * i)
        for i in range(1, performances + 1):
            start = EPOCH + timedelta(days=200 + i % 3, hours=12 + i % 8)
            self.performances[i] = Performance(
                i, self.rng.randint(1, bands), self.rng.randint(1, venues), iso(start))

    def _row(self, ticket_id: int, performance_id: int, price: int | str, purchase: str,
             version: int) -> FactRow:
        perf = self.performances[performance_id]
        return FactRow(ticket_id=ticket_id, purchase_id=ticket_id // 2 + 1,
                       performance_id=performance_id, band_id=perf.band_id,
                       venue_id=perf.venue_id, person_key=f"p{ticket_id % 97:04d}",
                       ticket_price=price, purchase_date=purchase,
                       performance_start=perf.start, festival_year=2022, sign=1,
                       version=version, source_ts_ms=1_660_000_000_000 + version)

    def insert(self) -> list[FactRow]:
        ticket_id = self.next_ticket
        self.next_ticket += 1
        purchase = iso(EPOCH + timedelta(seconds=self.rng.randint(0, 120 * 86400),
                                         microseconds=self.rng.randint(0, 999_999)))
        row = self._row(ticket_id, self.rng.choice(list(self.performances)),
                        self.rng.choice((20, 25, 30, 35)), purchase, self._next_version())
        self.current[ticket_id] = row
        return [row]

    def update(self) -> list[FactRow]:
        if not self.current:
            return self.insert()
        old = self.current[self.rng.choice(list(self.current))]
        version = self._next_version()
        # a correction may bring cents (prices are amounts: contracts.columns.money)
        correction = self.rng.choice((Decimal("-4.50"), Decimal("5.25"), 10))
        price = add_amount(old.ticket_price, correction)
        new = self._row(old.ticket_id, self.rng.choice(list(self.performances)), price,
                        old.purchase_date, version)
        self.current[old.ticket_id] = new
        return [old.with_sign(-1, version=version, source_ts_ms=new.source_ts_ms), new]

    def delete(self) -> list[FactRow]:
        if not self.current:
            return []
        old = self.current.pop(self.rng.choice(list(self.current)))
        version = self._next_version()
        return [old.with_sign(-1, version=version, source_ts_ms=old.source_ts_ms)]

    def move_performance(self) -> list[FactRow]:
        """A performance changes venue: every ticket of it is re-emitted."""
        perf_id = self.rng.choice(list(self.performances))
        perf = self.performances[perf_id]
        perf.venue_id = self.rng.choice([v for v in self.venues if v != perf.venue_id]
                                        or [perf.venue_id])
        version = self._next_version()
        deltas: list[FactRow] = []
        for ticket_id, old in list(self.current.items()):
            if old.performance_id != perf_id:
                continue
            new = replace(old, venue_id=perf.venue_id, version=version)
            self.current[ticket_id] = new
            deltas += [old.with_sign(-1, version=version, source_ts_ms=old.source_ts_ms), new]
        return deltas

    def script(self, steps: int, *, moves: float = 0.03) -> list[FactRow]:
        """A mixed workload: mostly sales, some corrections, refunds and venue moves
        (`moves` is the share of steps that move a performance, re-emitting its tickets)."""
        deltas: list[FactRow] = []
        for _ in range(steps):
            roll = self.rng.random()
            if roll < moves:
                deltas += self.move_performance()
            elif roll < 0.7:
                deltas += self.insert()
            elif roll < 0.85:
                deltas += self.update()
            else:
                deltas += self.delete()
        return deltas

    def truth(self) -> Truth:
        perf: dict[int, list[int | Decimal]] = defaultdict(lambda: [0, 0])
        day: dict[tuple[str, int, int], list[int | Decimal]] = defaultdict(lambda: [0, 0])
        minute: dict[tuple[str, int], list[int | Decimal]] = defaultdict(lambda: [0, 0])
        for row in self.current.values():
            moment = datetime.fromisoformat(row.purchase_date)
            for bucket in (perf[row.performance_id],
                           day[(moment.date().isoformat(), row.venue_id, row.band_id)],
                           minute[(moment.strftime("%Y-%m-%d %H:%M:00"), row.venue_id)]):
                bucket[0] += 1
                bucket[1] += exact_amount(row.ticket_price)

        def freeze(d: dict) -> dict:  # type: ignore[type-arg]
            return {k: (v[0], v[1]) for k, v in d.items()}

        return Truth(freeze(perf), freeze(day), freeze(minute), len(self.current),
                     sum(exact_amount(r.ticket_price) for r in self.current.values()),
                     dict(self.current))

    # --- dimension rows, as the sink writes them (JSONEachRow lines) ---------------------
    def dimension_lines(self) -> dict[str, list[bytes]]:
        def line(**row: object) -> bytes:
            return json.dumps({**row, "version": self.version, "is_deleted": 0,
                               "source_ts_ms": 0}).encode()

        return {
            "dim_bands": [line(id=i, name=n, fee=100) for i, n in self.bands.items()],
            "dim_venues": [line(id=i, name=n, capacity=c)
                           for i, (n, c) in self.venues.items()],
            "dim_performances": [line(id=p.id, performance_start=p.start, band_id=p.band_id,
                                      venue_id=p.venue_id)
                                 for p in self.performances.values()],
        }
