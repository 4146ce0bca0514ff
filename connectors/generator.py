"""The festival's 20-year ticketing history as numpy columns, deterministic per seed.

Pure computation, no database: `generate(scale, seed)` returns every table as columns, so
the shape can be unit-tested and the loader (`connectors.seed`) only has to stream it.
Scale 1.0 is the real festival's size (about 3.5 M tickets); counts scale linearly with a
small floor so that scale 0.01 still has every kind of row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from connectors.names import BAND_FIRST, BAND_SECOND, FIRST_NAMES, LAST_NAMES, STAGES

YEARS: tuple[int, ...] = tuple(y for y in range(2002, 2023) if y != 2020)
"""Festival years: 2002-2022, none in 2020."""

FEES = np.array([50, 100, 200])
TICKETS_PER_PURCHASE = np.array([0.45, 0.33, 0.08, 0.08, 0.025, 0.015, 0.01, 0.01])
"""P(1..8 tickets in one purchase): mean about 2.04, as 3.5 M tickets / 1.7 M purchases."""

BASE_COUNTS = {"bands": 1_400, "performances": 2_500, "people": 150_000,
               "purchases": 1_700_000}
MIN_COUNTS = {"bands": 20, "performances": 40, "people": 200, "purchases": 400}

Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class History:
    """Every source table as named columns (same-length numpy arrays), ids from 1."""

    venues: Columns
    bands: Columns
    performances: Columns
    people: Columns
    purchases: Columns
    tickets: Columns

    def table(self, name: str) -> Columns:
        return getattr(self, name)  # type: ignore[no-any-return]

    def row_counts(self) -> dict[str, int]:
        return {name: len(next(iter(self.table(name).values())))
                for name in ("venues", "bands", "performances", "people", "purchases",
                             "tickets")}


def counts_for(scale: float) -> dict[str, int]:
    """Row counts (before tickets, which follow from purchases) for a scale."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    return {name: max(MIN_COUNTS[name], round(base * scale))
            for name, base in BASE_COUNTS.items()}


def generate(scale: float, seed: int = 0) -> History:
    """The whole history for `scale`, identical for identical (scale, seed)."""
    rng = np.random.default_rng(seed)
    n = counts_for(scale)
    venues = _venues()
    bands, popularity = _bands(rng, n["bands"])
    performances, perf_weight, perf_year = _performances(rng, n["performances"], popularity,
                                                         bands["fee"])
    people, person_weight = _people(rng, n["people"])
    purchases, purchase_perf, per_purchase = _purchases(
        rng, n["purchases"], performances, perf_weight, person_weight)
    tickets = _tickets(rng, purchases["id"], purchase_perf, per_purchase, performances,
                       bands["fee"], perf_year)
    return History(venues=venues, bands=bands, performances=performances, people=people,
                   purchases=purchases, tickets=tickets)


def _venues() -> Columns:
    return {
        "id": np.arange(1, len(STAGES) + 1),
        "name": np.array([name for name, _, _ in STAGES], dtype=object),
        "capacity": np.array([capacity for _, capacity, _ in STAGES]),
    }


def _bands(rng: np.random.Generator, count: int) -> tuple[Columns, np.ndarray]:
    """Bands with a skewed popularity: a few headliners, a long tail of near-equals."""
    popularity = rng.lognormal(0.0, 0.35, count)
    order = rng.permutation(count)
    headliners = order[: max(1, count // 100)]
    big = order[max(1, count // 100): max(2, count // 20)]
    popularity[headliners] *= 5.0
    popularity[big] *= 2.5
    rank = np.argsort(np.argsort(-popularity))  # 0 = most popular
    fee_index = np.where(rank < count * 0.15, 2, np.where(rank < count * 0.5, 1, 0))
    first = rng.integers(0, len(BAND_FIRST), count)
    second = rng.integers(0, len(BAND_SECOND), count)
    names = np.array([f"The {BAND_FIRST[a]} {BAND_SECOND[b]}" for a, b in zip(first, second,
                                                                            strict=True)],
                     dtype=object)
    bands = {"id": np.arange(1, count + 1), "name": names, "fee": FEES[fee_index]}
    return bands, popularity


def _festival_days(year: int) -> list[dt.date]:
    """The festival's days: first weekend of October (Fri-Sun), a second one from 2013."""
    first = dt.date(year, 10, 1)
    friday = first + dt.timedelta(days=(4 - first.weekday()) % 7)
    days = [friday + dt.timedelta(days=d) for d in range(3)]
    if year >= 2013:
        days += [d + dt.timedelta(days=7) for d in days]
    return days


def _performances(rng: np.random.Generator, count: int, popularity: np.ndarray,
                  fees: np.ndarray) -> tuple[Columns, np.ndarray, np.ndarray]:
    """Performances across the 20 festivals; returns columns, ticket demand and year."""
    year_weight = np.array([1.0 + 0.08 * (y - YEARS[0]) for y in YEARS])
    year_index = rng.choice(len(YEARS), count, p=year_weight / year_weight.sum())
    day_pick = rng.random(count)
    starts = np.empty(count, dtype="datetime64[s]")
    for i, (yi, pick) in enumerate(zip(year_index, day_pick, strict=True)):
        days = _festival_days(YEARS[yi])
        starts[i] = np.datetime64(days[int(pick * len(days))], "s")
    # 12:00-21:45 in Austin (UTC-5 in October) = 17:00-02:45 UTC
    offsets = rng.integers(17 * 4, 27 * 4, count) * 900
    starts = starts + offsets.astype("timedelta64[s]")
    stage_weight = np.array([w for _, _, w in STAGES])
    venue_index = rng.choice(len(STAGES), count)
    band_index = rng.choice(len(popularity), count, p=popularity / popularity.sum())
    # every band plays at least once when there are enough performances
    if count >= len(popularity):
        band_index[rng.permutation(count)[: len(popularity)]] = np.arange(len(popularity))
    demand = popularity[band_index] * stage_weight[venue_index] * year_weight[year_index]
    order = np.argsort(starts, kind="stable")
    performances = {
        "id": np.arange(1, count + 1),
        "performance_start": starts[order],
        "band_id": band_index[order] + 1,
        "venue_id": venue_index[order] + 1,
    }
    years = np.array(YEARS)[year_index][order]
    del fees  # prices are derived per ticket from the band's fee
    return performances, demand[order], years


def _people(rng: np.random.Generator, count: int) -> tuple[Columns, np.ndarray]:
    first = rng.integers(0, len(FIRST_NAMES), count)
    last = rng.integers(0, len(LAST_NAMES), count)
    initial = rng.integers(0, 26, count)
    names = np.array([f"{FIRST_NAMES[f]} {chr(65 + i)}. {LAST_NAMES[la]}"
                      for f, i, la in zip(first, initial, last, strict=True)], dtype=object)
    # some people come every year, most once or twice
    weight = rng.lognormal(0.0, 1.0, count)
    return {"id": np.arange(1, count + 1), "name": names}, weight


def _purchases(rng: np.random.Generator, count: int, performances: Columns,
               perf_weight: np.ndarray, person_weight: np.ndarray
               ) -> tuple[Columns, np.ndarray, np.ndarray]:
    """Purchases, each for one performance; ids follow purchase time like a live system."""
    perf_index = rng.choice(len(perf_weight), count, p=perf_weight / perf_weight.sum())
    person_index = rng.choice(len(person_weight), count,
                              p=person_weight / person_weight.sum())
    # on-sale rush about 150 days before (a third of sales), the rest builds up to the day
    rush = rng.random(count) < 0.33
    days_before = np.where(rush, 150.0 - rng.exponential(1.0, count),
                           rng.gamma(1.5, 25.0, count))
    days_before = np.clip(days_before, 0.01, 200.0)
    seconds_before = (days_before * 86_400).astype("int64")
    dates = performances["performance_start"][perf_index] - seconds_before.astype(
        "timedelta64[s]")
    order = np.argsort(dates, kind="stable")
    per_purchase = rng.choice(8, count, p=TICKETS_PER_PURCHASE)[order] + 1
    purchases = {
        "id": np.arange(1, count + 1),
        "purchase_date": dates[order],
        "person_id": person_index[order] + 1,
    }
    return purchases, perf_index[order], per_purchase


def _tickets(rng: np.random.Generator, purchase_ids: np.ndarray, purchase_perf: np.ndarray,
             per_purchase: np.ndarray, performances: Columns, fees: np.ndarray,
             perf_year: np.ndarray) -> Columns:
    """Tickets of each purchase; price from the band's fee tier and the stage, near $25."""
    perf_index = np.repeat(purchase_perf, per_purchase)
    count = len(perf_index)
    band_fee = fees[performances["band_id"][perf_index] - 1]
    base = np.select([band_fee == 200, band_fee == 100], [26.1, 24.9], 24.0)
    stage_bonus = np.where(performances["venue_id"][perf_index] <= 4, 0.4, 0.0)
    price = np.rint(base + stage_bonus + rng.normal(0.0, 3.0, count)).astype("int64")
    ids = np.arange(1, count + 1)
    return {
        "id": ids,
        "price": np.clip(price, 10, 60),
        "performance_id": perf_index + 1,
        "purchase_id": np.repeat(purchase_ids, per_purchase),
        "ticketnum": _ticketnums(ids, perf_index + 1, perf_year[perf_index]),
    }


def _ticketnums(ids: np.ndarray, perf_ids: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Printed ticket numbers: ACL<yy>-<performance>-<ticket>, e.g. ACL19-01234-00012345."""
    return np.array([f"ACL{y % 100:02d}-{p:05d}-{i:08d}"
                     for i, p, y in zip(ids.tolist(), perf_ids.tolist(), years.tolist(),
                                        strict=True)], dtype=object)
