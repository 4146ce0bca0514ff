"""The benchmark harness's own logic: percentiles, process trees, the docs page."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import record, report
from bench.bench_live import generator_limited, percentiles
from bench.bench_memory import children, process_tree


def test_percentiles_of_a_known_distribution() -> None:
    figures = percentiles([i / 100 for i in range(1, 101)])
    assert figures["n"] == 100
    assert figures["p50_s"] == pytest.approx(0.505, abs=0.01)
    assert figures["p99_s"] == pytest.approx(0.99, abs=0.01)
    assert figures["max_s"] == 1.0


def test_percentiles_of_too_few_samples_say_so() -> None:
    assert percentiles([])["p99_s"] is None
    assert percentiles([0.3])["p50_s"] == 0.3


def test_the_fastest_step_kept_up_means_the_maximum_is_a_lower_bound() -> None:
    steps = [{"achieved_per_s": 200.0, "sustainable": True},
             {"achieved_per_s": 700.0, "sustainable": True},
             {"achieved_per_s": 500.0, "sustainable": False}]
    assert generator_limited(steps)
    steps[1]["sustainable"] = False
    assert not generator_limited(steps)


def test_this_process_is_in_its_parents_tree() -> None:
    tree = children()
    assert os.getpid() in process_tree(os.getppid(), tree)


def test_the_page_renders_without_results(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "RESULTS", tmp_path)
    page = report.render()
    assert "| history: seed --scale 1.0 until verify passes | < 180 s | not run |" in page
    assert "6,000 to 9,000 rows/s" in page


def test_the_page_shows_an_unmet_history_target(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "RESULTS", tmp_path)
    (tmp_path / "history.json").write_text(json.dumps({
        "at": "2026-11-21T00:00:00Z", "scale": 1.0, "source_rows": 5_000_000,
        "tickets": 3_400_000, "seed_committed_s": 80.0, "caught_up_s": None,
        "seconds_until_verify": None, "source_rows_per_s": None, "deadline_s": 900.0,
        "capture_tickets_per_s": 2500, "tickets_visible_at_end": 2_000_000,
        "load_avg_1m_start": 3.0, "load_avg_1m_end": 4.0}))
    page = report.render()
    assert "not within 900 s | **no**" in page


def test_source_overhead_calls_a_ratio_inside_its_spread_inconclusive() -> None:
    from bench.bench_source_overhead import judge

    noisy = judge([0.95, 1.05, 0.98, 1.02, 0.99, 1.01, 0.97, 1.03, 1.0, 0.96], target=0.97)
    assert noisy["verdict"] == "inconclusive"  # a 0.5 % effect inside a 5 % spread
    steady_cost = judge([0.90, 0.91, 0.89, 0.92, 0.90, 0.91, 0.90, 0.90, 0.91, 0.89],
                        target=0.97)
    assert (steady_cost["verdict"], steady_cost["ratio_median"]) == ("not met", 0.9)
    cheap = judge([0.99, 0.995, 0.99, 0.992, 0.991, 0.99, 0.993, 0.99, 0.991, 0.99],
                  target=0.97)
    assert cheap["verdict"] == "met"
