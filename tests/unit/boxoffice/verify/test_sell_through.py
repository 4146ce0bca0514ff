"""verify's sell-through truth, derived from what it already reads of the source: each
performance's venue now, that venue's capacity, the tickets sold; and the check fails
on a warehouse that still counts a moved performance against its old venue."""

from __future__ import annotations

from boxoffice.verify.checks import BY_NAME
from boxoffice.verify.compare import compare
from boxoffice.verify.source import sell_through

TRUTH = {
    "dim_venues": {(1,): ("Main", 3000), (2,): ("Tent", 500)},
    "dim_performances": {(10,): ("2027-07-01 20:00:00.000000", 7, 2),
                         (11,): ("2027-07-02 20:00:00.000000", 8, 1),
                         (12,): ("2027-07-03 20:00:00.000000", 8, 9)},
    "sales_by_performance": {(10,): (120, 5400), (12,): (3, 90)},
}


def test_each_performance_counts_against_its_current_venue() -> None:
    assert sell_through(TRUTH) == {(10,): (2, 500, 120), (11,): (1, 3000, 0),
                                   (12,): (9, 0, 3)}  # venue 9 unknown: capacity 0


def test_a_performance_counted_at_its_old_venue_is_a_mismatch() -> None:
    stale = {**sell_through(TRUTH), (10,): (1, 3000, 120)}
    result = compare(BY_NAME["sell_through"], sell_through(TRUTH), stale)
    assert not result.ok and result.mismatches == 1
    assert compare(BY_NAME["sell_through"], sell_through(TRUTH), sell_through(TRUTH)).ok
