"""The capacity plan's arithmetic, on made-up measurements."""

from __future__ import annotations

from bench.capacity import plan

HISTORY = {
    "at": "2026-12-07", "source_rows": 1_000_000, "tickets": 600_000,
    "load_avg_1m_start": 0.5, "load_avg_1m_end": 1.0,
    "rows_by_table": {"tickets": 600_000, "purchases": 300_000, "people": 100_000},
    "cpu_by_stage": {"postgres_walsender": {"us_per_source_row": 10.0},
                     "connect": {"us_per_source_row": 30.0},
                     "processors": {"us_per_source_row": 20.0},
                     "sink": {"us_per_source_row": 5.0},
                     "clickhouse": {"us_per_source_row": 8.0}},
    "clickhouse_bytes_on_disk": 60_000_000,
}


def test_the_plan_shows_its_arithmetic_and_names_capture_as_the_first_limit() -> None:
    text = "\n".join(plan(HISTORY))
    # 2 tickets + 1 purchase + 1/3 person = 3.33 rows per purchase
    assert "333,333 source rows/s" in text
    # connect: 333,333 x 30 us = 10.0 cores, x 2 = 20.0 -> 20 connectors
    assert "| Kafka Connect + Debezium (one task per connector) | 30.0 | 10.0 | 20.0 | " \
           "20 processes |" in text
    assert "What saturates first: capture" in text and "**20 slots and connectors**" in text
    # processors 13.3 cores -> 14 workers; partitions: next power of two above 28
    assert "Processor workers: 14; sink processes: 4." in text
    assert "Kafka partitions: 32" in text
    # 100 bytes per ticket -> 35 GB for 350 M tickets
    assert "100 bytes on disk per ticket" in text and "**35 GB**" in text


def test_without_cpu_figures_it_says_what_to_run() -> None:
    assert "make bench ONLY=history" in plan({"source_rows": 1})[0]
