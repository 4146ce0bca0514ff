"""The capacity plan for 100 times the festival, computed from measured CPU costs.

Inputs, all from bench/results/: the history benchmark's CPU seconds per stage over the
5.3 M source rows it streams (`cpu_by_stage`, microseconds per source row) and its rows
per table (tickets per purchase), and the bytes on disk it left in ClickHouse and Kafka.
The arithmetic is printed with the figures so a reader can redo it with other targets.

Assumptions are stated where they are made: a stage process uses about one core (Python
workers and the sink are single-threaded where it counts; a Debezium connector has one
task; a PostgreSQL walsender is one process per slot), servers have 16 cores, and the
history stream (mostly inserts) costs what an on-sale does per row.
"""

from __future__ import annotations

import math
from typing import Any

TARGET_TICKETS = 350_000_000
TARGET_PURCHASES_PER_S = 100_000
CORES_PER_SERVER = 16
HEADROOM = 2.0
"""Provision for twice the computed peak: a stage at 100 % has no room to catch up."""

STAGES = {
    "postgres_walsender": "PostgreSQL walsender (logical decoding, one per slot)",
    "connect": "Kafka Connect + Debezium (one task per connector)",
    "kafka": "Kafka broker",
    "processors": "processors (one Faust worker per core)",
    "sink": "sink (one process per core)",
    "clickhouse": "ClickHouse (inserts and merges)",
}


def _whole(value: float) -> int:
    """Round up, but not for float noise (20.000000000000004 is 20)."""
    return math.ceil(round(value, 6))


SERVERS = {"kafka", "clickhouse"}
"""Stages that use every core of a server; the others are one-core processes."""


def plan(history: dict[str, Any]) -> list[str]:
    """The plan's lines (markdown), or why there is none yet."""
    cpu = history.get("cpu_by_stage")
    rows = history.get("rows_by_table")
    if not cpu or not rows:
        return ["Not computed yet: the history benchmark on record predates its CPU "
                "accounting (`make bench ONLY=history`).", ""]
    tickets, purchases = rows["tickets"], rows["purchases"]
    per_purchase = (tickets + purchases + rows.get("people", 0)) / purchases
    peak_rows = TARGET_PURCHASES_PER_S * per_purchase
    lines = [
        f"Measured by the history benchmark ({history.get('at', '?')}): "
        f"{history['source_rows']:,} source rows through every stage, load average "
        f"{history.get('load_avg_1m_start')} → {history.get('load_avg_1m_end')}.",
        "",
        f"- **Peak load.** The history has {tickets / purchases:.2f} tickets and "
        f"{rows.get('people', 0) / purchases:.2f} new people per purchase, so one "
        f"purchase is {per_purchase:.2f} source rows. {TARGET_PURCHASES_PER_S:,} "
        f"purchases/s = **{peak_rows:,.0f} source rows/s** through every stage.",
        f"- **Cores** = rows/s x µs per row / 1,000,000, then x {HEADROOM:g} headroom.",
        "",
        "| stage | µs CPU per source row (measured) | cores at the peak | "
        "x headroom | processes or servers |",
        "| --- | --- | --- | --- | --- |",
    ]
    needs: dict[str, float] = {}
    for stage, label in STAGES.items():
        if stage not in cpu:
            continue
        micros = cpu[stage]["us_per_source_row"]
        cores = peak_rows * micros / 1e6
        needs[stage] = cores * HEADROOM
        count = (f"{_whole(needs[stage] / CORES_PER_SERVER)} server(s)"
                 if stage in SERVERS else f"{_whole(needs[stage])} processes")
        lines.append(f"| {label} | {micros:.1f} | {cores:,.1f} | {needs[stage]:,.1f} | "
                     f"{count} |")
    lines.append("")
    lines += _consequences(needs, history, peak_rows)
    return lines


def _consequences(needs: dict[str, float], history: dict[str, Any],
                  peak_rows: float) -> list[str]:
    out: list[str] = []
    capture = max(needs.get("postgres_walsender", 0.0), needs.get("connect", 0.0))
    single: dict[str, float] = {stage: needs[stage]
                                for stage in ("postgres_walsender", "connect")
                                if stage in needs}
    first = max(single, key=lambda name: single[name]) if single else None
    if first is not None:
        out.append(
            f"- **What saturates first: capture.** A slot is decoded by one walsender and "
            f"read by one connector task, each about one core; the peak needs "
            f"{capture:,.1f} cores of the busier of the two ({STAGES[first]}). So the "
            f"source must be split into **{_whole(capture)} slots and connectors**: "
            "PostgreSQL 15 publications with row filters (`FOR TABLE tickets WHERE "
            "(id % N = k)`), one slot and one Debezium connector each, all writing the "
            "same CDC topics. Nothing downstream needs to change for that: the topics, "
            "keys and join are the same.")
    workers = _whole(needs.get("processors", 1.0))
    sinks = _whole(needs.get("sink", 1.0))
    partitions = 2 ** _whole(math.log2(max(workers, sinks, 1) * 2))
    out.append(f"- **Processor workers: {workers}; sink processes: {sinks}.** "
               f"**Kafka partitions: {partitions}** per CDC, join and facts topic (the next "
               "power of two above twice the larger count, so a worker or sink can be "
               "added without repartitioning: the join state is keyed by partition).")
    clickhouse = needs.get("clickhouse", 0.0)
    shards = max(1, _whole(clickhouse / CORES_PER_SERVER))
    disk = history.get("clickhouse_bytes_on_disk")
    tickets = history.get("tickets") or 1
    if disk:
        per_ticket = disk / tickets
        total_gb = per_ticket * TARGET_TICKETS / 1e9
        storage = (f"{per_ticket:,.0f} bytes on disk per ticket of history (facts, "
                   f"aggregates, dimensions: measured), so {TARGET_TICKETS / 1e6:,.0f} M "
                   f"tickets take **{total_gb:,.0f} GB** per replica")
    else:
        storage = "storage per ticket not measured in this run"
    out.append(f"- **ClickHouse: {shards} shard(s) x 2 replicas** ({clickhouse:,.1f} cores "
               f"of inserts and merges at the peak, {CORES_PER_SERVER}-core servers; "
               "`boxoffice warehouse cluster-ddl` writes the Replicated/Distributed DDL); "
               f"{storage}. Replicas are for availability: reads (dashboards, SQL Lab) "
               "go to either.")
    kafka_disk = history.get("kafka_bytes_on_disk")
    if kafka_disk:
        per_row = kafka_disk / max(history["source_rows"], 1)
        out.append(f"- **Kafka: at least 3 brokers with replication factor 3** "
                   "(`BOXOFFICE_KAFKA_BROKERS=3`, docs/operations.md). "
                   f"{per_row:,.0f} bytes per source row across the CDC, "
                   "join and facts "
                   f"topics (measured), so the peak writes "
                   f"{per_row * peak_rows * 3 / 1e6:,.0f} MB/s with replication; the "
                   "facts and join topics are kept for ever, so disk grows with every "
                   "ticket sold.")
    out.append("")
    return out
