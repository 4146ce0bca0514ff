"""A small, known festival written straight into ClickHouse for the dashboard tests.

The dashboards read the warehouse only, so their tests need facts and dimensions in
ClickHouse, not the whole pipeline: this module writes them as the sink does (the
writer user, JSONEachRow, an insert deduplication token per batch). Ids start at
`ID_BASE` so the rows never collide with anything the pipeline itself might write into
the same database. History covers three festivals on the seed's stage names; `live_sales`
adds purchases made minutes ago, for the live dashboard.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from contracts.facts import FactRow
from contracts.settings import Settings
from warehouse.sink.writer import ClickHouseWriter

ID_BASE = 9_000_000
STAGES = ("Honda", "BMI", "AMD", "Bud Light", "Google+", "Vista Equity",
          "Austin Kiddie Limits presented by H-E-B")
"""Most popular first: the venue ranking's top three are Honda, BMI and AMD."""
HISTORY_YEARS = (2019, 2021, 2022)
BANDS = 24
PERFORMANCES_PER_STAGE_AND_YEAR = 5
PRICES = (20, 25, 30, 35)
BATCH_ROWS = 2_000


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Performance:
    id: int
    band_id: int
    venue_id: int
    start: datetime
    year: int


@dataclass
class Festival:
    """Dimensions and ticket facts with ids above ID_BASE, deterministic per seed."""

    seed: int = 2024
    bands: dict[int, str] = field(default_factory=dict)
    venues: dict[int, tuple[str, int]] = field(default_factory=dict)
    performances: dict[int, Performance] = field(default_factory=dict)
    next_ticket: int = ID_BASE + 1
    version: int = 10_000
    _history: list[FactRow] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        for i in range(1, BANDS + 1):
            self.bands[ID_BASE + i] = f"Test Band {i:02d}"
        for i, stage in enumerate(STAGES, start=1):
            self.venues[ID_BASE + i] = (stage, 10_000 - 1_000 * i)
        this_year = datetime.now(UTC).year
        # next year's lineup: performances still to come, none sold yet (sell-through)
        for year in (*HISTORY_YEARS, this_year, this_year + 1):
            for venue_id in self.venues:
                for _ in range(PERFORMANCES_PER_STAGE_AND_YEAR):
                    pid = ID_BASE + len(self.performances) + 1
                    start = datetime(year, 10, 1 + self.rng.randint(0, 9),
                                     12 + self.rng.randint(0, 9), tzinfo=UTC)
                    self.performances[pid] = Performance(
                        pid, self.rng.choice(list(self.bands)), venue_id, start, year)

    def ticket(self, perf: Performance, purchase: datetime) -> FactRow:
        ticket_id = self.next_ticket
        self.next_ticket += 1
        self.version += 1
        return FactRow(
            ticket_id=ticket_id, purchase_id=ticket_id, performance_id=perf.id,
            band_id=perf.band_id, venue_id=perf.venue_id,
            person_key=f"test-person-{ticket_id % 311}",
            ticket_price=self.rng.choice(PRICES), purchase_date=iso(purchase),
            performance_start=iso(perf.start), festival_year=perf.year, sign=1,
            version=self.version, source_ts_ms=int(purchase.timestamp() * 1000))

    def history(self) -> list[FactRow]:
        """Tickets of the past festivals, bought in the months before each show: made on
        the first call, the same list after (each call used to draw new tickets, so a
        test comparing with it compared with tickets never written)."""
        if self._history is None:
            self._history = self._draw_history()
        return self._history

    def _draw_history(self) -> list[FactRow]:
        rows: list[FactRow] = []
        for perf in self.performances.values():
            if perf.year not in HISTORY_YEARS:
                continue
            popularity = len(STAGES) + 1 - (perf.venue_id - ID_BASE)
            for _ in range(self.rng.randint(2, 6) * popularity):
                bought = perf.start - timedelta(days=self.rng.randint(1, 120),
                                                seconds=self.rng.randint(0, 86_399))
                rows.append(self.ticket(perf, bought))
        return rows

    def live_sales(self, count: int, *, now: datetime | None = None,
                   within_minutes: int = 50) -> list[FactRow]:
        """`count` tickets for this year's shows, bought in the last `within_minutes`."""
        now = now or datetime.now(UTC)
        this_year = [p for p in self.performances.values() if p.year == now.year]
        return [self.ticket(self.rng.choice(this_year),
                             now - timedelta(seconds=self.rng.randint(0, within_minutes * 60)))
                for _ in range(count)]

    def dimension_lines(self) -> dict[str, list[bytes]]:
        def line(**row: object) -> bytes:
            return json.dumps({**row, "version": 1, "is_deleted": 0,
                               "source_ts_ms": 0}).encode()

        return {
            "dim_bands": [line(id=i, name=n, fee=100) for i, n in self.bands.items()],
            "dim_venues": [line(id=i, name=n, capacity=c)
                           for i, (n, c) in self.venues.items()],
            "dim_performances": [line(id=p.id, performance_start=iso(p.start),
                                      band_id=p.band_id, venue_id=p.venue_id)
                                 for p in self.performances.values()],
        }


def write_dimensions(settings: Settings, festival: Festival) -> None:
    writer = ClickHouseWriter(settings=settings)
    try:
        for table, lines in festival.dimension_lines().items():
            writer.insert(table, lines, f"dashboards-test:{table}:{uuid.uuid4().hex}")
    finally:
        writer.close()


def write_facts(settings: Settings, rows: list[FactRow]) -> None:
    """Insert facts as the sink does; each batch gets a fresh token (never deduplicated)."""
    writer = ClickHouseWriter(settings=settings)
    try:
        for start in range(0, len(rows), BATCH_ROWS):
            lines = [row.to_json() for row in rows[start:start + BATCH_ROWS]]
            writer.insert("fact_ticket_sales", lines, f"dashboards-test:{uuid.uuid4().hex}")
    finally:
        writer.close()


def write_heartbeat(settings: Settings, *, at: datetime | None = None,
                    lsn: int | None = None) -> int:
    """A source heartbeat as the sink stores it; returns its source_ts_ms."""
    moment = at or datetime.now(UTC)
    source_ts_ms = int(moment.timestamp() * 1000)
    record: dict[str, object] = {"source_ts_ms": source_ts_ms, "heartbeat_ts": iso(moment),
                                 "processed_ts_ms": source_ts_ms}
    if lsn is not None:
        record["source_lsn"] = lsn
    line = json.dumps(record).encode()
    writer = ClickHouseWriter(settings=settings)
    try:
        writer.insert("heartbeats", [line], f"dashboards-test:heartbeat:{uuid.uuid4().hex}")
    finally:
        writer.close()
    return source_ts_ms
