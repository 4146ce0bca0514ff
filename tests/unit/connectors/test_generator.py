"""The generated history: deterministic per seed, consistent, and shaped like the festival."""

from __future__ import annotations

import numpy as np
import pytest

from connectors.generator import YEARS, History, generate

TABLES = ("venues", "bands", "performances", "people", "purchases", "tickets")


@pytest.fixture(scope="module")
def small() -> History:
    return generate(0.01, seed=7)


def test_same_seed_same_history(small: History) -> None:
    again = generate(0.01, seed=7)
    for table in TABLES:
        for column, values in small.table(table).items():
            assert np.array_equal(values, again.table(table)[column]), (table, column)


def test_another_seed_another_history(small: History) -> None:
    other = generate(0.01, seed=8)
    assert not np.array_equal(small.tickets["price"][:100], other.tickets["price"][:100])


def test_small_scale_has_every_kind_of_row(small: History) -> None:
    counts = small.row_counts()
    assert counts["venues"] == 9
    assert counts["bands"] >= 20
    assert counts["performances"] >= 25
    assert counts["people"] == 1_500
    assert counts["purchases"] == 17_000
    assert 30_000 < counts["tickets"] < 40_000


def test_references_point_at_existing_rows(small: History) -> None:
    counts = small.row_counts()
    assert small.performances["band_id"].min() >= 1
    assert small.performances["band_id"].max() <= counts["bands"]
    assert set(small.performances["venue_id"]) <= set(range(1, 10))
    assert small.purchases["person_id"].max() <= counts["people"]
    assert small.tickets["performance_id"].max() <= counts["performances"]
    assert small.tickets["purchase_id"].max() <= counts["purchases"]
    for table in TABLES:
        ids = small.table(table)["id"]
        assert np.array_equal(ids, np.arange(1, len(ids) + 1)), table


def test_values_follow_the_rules(small: History) -> None:
    assert set(small.bands["fee"]) <= {50, 100, 200}
    years = small.performances["performance_start"].astype("datetime64[Y]").astype(int) + 1970
    assert set(years) <= set(YEARS)
    assert 2020 not in set(years)
    per_purchase = np.bincount(small.tickets["purchase_id"])[1:]
    assert per_purchase.min() >= 1 and per_purchase.max() <= 8
    assert len(set(small.tickets["ticketnum"])) == len(small.tickets["ticketnum"])
    stage_names = set(small.venues["name"])
    assert {"AMD", "Honda", "Bud Light", "BMI", "Google+", "Vista Equity",
            "Austin Kiddie Limits presented by H-E-B"} <= stage_names
    purchase_date = small.purchases["purchase_date"][small.tickets["purchase_id"] - 1]
    start = small.performances["performance_start"][small.tickets["performance_id"] - 1]
    assert (purchase_date < start).all()


def test_full_scale_matches_the_festival() -> None:
    history = generate(1.0, seed=0)
    counts = history.row_counts()
    assert counts["bands"] == 1_400 and counts["performances"] == 2_500
    assert counts["people"] == 150_000 and counts["purchases"] == 1_700_000
    assert 3_300_000 < counts["tickets"] < 3_700_000
    t = history.tickets
    assert 24.0 < t["price"].mean() < 26.0
    venue = history.performances["venue_id"][t["performance_id"] - 1]
    revenue = np.bincount(venue, weights=t["price"])[1:]
    assert revenue.min() > 4e6 and revenue.max() < 16e6  # order of $10 M per stage
    assert np.median(revenue) == pytest.approx(1e7, rel=0.15)
    band = history.performances["band_id"][t["performance_id"] - 1]
    _groups, inverse = np.unique(band * 100 + venue, return_inverse=True)
    average = np.bincount(inverse, weights=t["price"]) / np.bincount(inverse)
    assert average.max() == pytest.approx(26.7, abs=0.6)
