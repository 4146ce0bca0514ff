"""The comparison rules verify relies on, without any service."""

from __future__ import annotations

import datetime as dt

from boxoffice.verify.checks import BY_NAME, CHECKS
from boxoffice.verify.compare import compare, compare_settled, sum_by
from boxoffice.verify.windows import rush_start_for, window_start_for

PERF = BY_NAME["sales_by_performance"]
BANDS = BY_NAME["dim_bands"]
EMPTY = BY_NAME["dq_tickets_without_band_or_venue"]


def test_equal_tables_match() -> None:
    table = {(1,): (3, 75), (2,): (1, 25)}
    result = compare(PERF, table, dict(table))
    assert result.ok
    assert (result.rows_compared, result.mismatches, result.samples) == (2, 0, [])


def test_aggregate_zero_rows_equal_absent_rows() -> None:
    """Merges drop keys whose sums reached zero; before they do, the key reads as 0."""
    assert compare(PERF, {(1,): (3, 75)}, {(1,): (3, 75), (2,): (0, 0)}).ok
    assert compare(PERF, {(1,): (3, 75), (2,): (0, 0)}, {(1,): (3, 75)}).ok


def test_differing_value_is_reported_with_both_sides() -> None:
    result = compare(PERF, {(1,): (3, 75), (2,): (1, 25)}, {(1,): (3, 75), (2,): (2, 50)})
    assert not result.ok
    assert result.mismatches == 1
    (sample,) = result.samples
    assert (sample.key, sample.expected, sample.found) == ((2,), (1, 25), (2, 50))
    assert sample.as_dict(PERF) == {"key": {"performance_id": 2},
                                    "expected": {"tickets": 1, "revenue": 25},
                                    "found": {"tickets": 2, "revenue": 50}}


def test_key_missing_on_either_side_is_a_mismatch_for_dimensions() -> None:
    result = compare(BANDS, {(1,): ("A", 50), (2,): ("B", 100)},
                     {(1,): ("A", 50), (3,): ("C", 200)})
    assert result.mismatches == 2
    assert [(m.key, m.expected, m.found) for m in result.samples] == [
        ((2,), ("B", 100), None), ((3,), None, ("C", 200))]


def test_samples_are_capped_and_sorted() -> None:
    expected = {(i,): (1, 10) for i in range(20)}
    result = compare(PERF, expected, {}, sample_limit=3)
    assert result.mismatches == 20
    assert [m.key for m in result.samples] == [(0,), (1,), (2,)]


def test_must_be_empty_view_fails_on_any_row() -> None:
    assert compare(EMPTY, {}, {}).ok
    result = compare(EMPTY, {}, {(7,): (2, 50, "band unknown")})
    assert not result.ok and result.samples[0].found == (2, 50, "band unknown")


def test_sum_by_rolls_up_to_a_coarser_key() -> None:
    day = {("2022-10-07", 1, 10): (2, 50), ("2022-10-08", 1, 10): (1, 30),
           ("2022-10-07", 2, 10): (4, 100)}
    assert sum_by(day, (1,)) == {(1,): (3, 80), (2,): (4, 100)}
    assert sum_by(day, (1, 2)) == {(1, 10): (3, 80), (2, 10): (4, 100)}


def test_window_start_is_a_whole_utc_minute() -> None:
    now = dt.datetime(2024, 5, 1, 12, 30, 45, 123, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert window_start_for(now, 60) == dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)


def test_rush_window_starts_on_whole_ten_seconds_fourteen_minutes_back() -> None:
    now = dt.datetime(2024, 5, 1, 12, 30, 47, 123, tzinfo=dt.UTC)
    assert rush_start_for(now) == dt.datetime(2024, 5, 1, 12, 16, 40, tzinfo=dt.UTC)


def test_every_check_has_a_unique_name_and_columns() -> None:
    names = [c.name for c in CHECKS]
    assert len(names) == len(set(names))
    assert all(c.key_columns for c in CHECKS)


def test_settled_comparison_judges_only_keys_unchanged_between_the_source_reads() -> None:
    """A replay's shadow against a source that keeps selling: key 2 sold between the two
    reads, so the shadow may or may not hold that sale; keys 1 and 3 did not change, so
    the shadow must equal the source on them."""
    before = {(1,): (3, 75), (2,): (1, 25)}
    after = {(1,): (3, 75), (2,): (2, 50)}
    assert compare_settled(PERF, before, after, {(1,): (3, 75), (2,): (2, 50)}).ok
    assert compare_settled(PERF, before, after, {(1,): (3, 75), (2,): (1, 25)}).ok
    short = compare_settled(PERF, before, after, {(2,): (2, 50)})
    assert (short.ok, short.rows_compared, short.mismatches) == (False, 1, 1)
    extra = compare_settled(PERF, before, after, {(1,): (3, 75), (3,): (1, 9)})
    assert (extra.ok, extra.mismatches) == (False, 1)  # 3 sold nowhere at the source


def test_settled_comparison_judges_must_be_empty_checks_whole() -> None:
    assert not compare_settled(EMPTY, {}, {}, {(7,): (1, 25, "no band")}).ok
