"""History captured end to end: `seed --scale 1.0` into a running pipeline, timed until
`boxoffice verify` passes (targets: under 3 minutes, >= 30,000 source rows/s).

The clock starts before the seed generates its history and stops when verify (every
aggregate in ClickHouse equal to the same aggregate computed from PostgreSQL) passes. In
between, the seed's COPY commits one transaction; Debezium streams it from the WAL into
the CDC topics, the processors join it into facts, the sink loads ClickHouse. Progress
is sampled every 2 s (change events captured into Kafka, tickets visible in ClickHouse)
so a run that misses its deadline still says where the time went.

CPU seconds of every stage (each supervised process with its descendants; PostgreSQL's
walsender, which decodes the WAL for the slot, on its own) are taken from before the seed
until verify passes: divided by the source rows, they are what each stage costs per
change, the input of the capacity plan in docs/performance.md.

    .venv/bin/python -m bench.bench_history --scale 1.0
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.machine import load_average, process_cpu_seconds
from bench.record import write_result
from boxoffice import pipeline
from boxoffice.verify import verify_until
from connectors.seed import seed
from contracts.settings import Settings
from contracts.tables import BUSINESS_TABLES
from contracts.topics import cdc_topic

WAL_KEEP = "8GB"
"""max_slot_wal_keep_size for this benchmark. The seed commits 5.3 M rows as ONE
transaction; the slot cannot advance until Debezium has decoded all of it (1.1 GB of WAL
retained when sampled mid-capture), so the default 1GB cap invalidates the slot
(measured: wal_status 'lost' a few minutes in). A bulk load into a live pipeline needs
the cap above its WAL."""
TARGET_SECONDS = 180.0
TARGET_ROWS_PER_S = 30_000
SAMPLE_SECONDS = 2.0


def _captured(settings: Settings, consumer: Any) -> int:
    """End offsets of the business tables' CDC topics: change events Debezium has
    written (plus a few transaction markers), to tell a capture bottleneck from a
    processing one."""
    from confluent_kafka import TopicPartition

    total = 0
    for table in BUSINESS_TABLES:
        name = cdc_topic(settings, table)
        metadata = consumer.list_topics(name, timeout=5).topics.get(name)
        if metadata is not None:
            total += sum(consumer.get_watermark_offsets(TopicPartition(name, p),
                                                        timeout=5)[1]
                         for p in metadata.partitions)
    return total


def _visible(client: Any, settings: Settings) -> int:
    db = settings.clickhouse_database
    rows = client.query(f"SELECT sum(tickets) FROM {db}.agg_sales_by_performance").result_rows
    return int(rows[0][0] or 0)


def stage_cpu_seconds(settings: Settings) -> dict[str, float]:
    """CPU seconds so far of each supervised process and its descendants (reaped ones
    included), and of PostgreSQL's walsenders apart."""
    from bench.bench_memory import children, process_tree, supervised_pids

    tree = children()
    used: dict[str, float] = {}
    for name, root in supervised_pids(settings).items():
        pids = process_tree(root, tree)
        used[name] = sum(process_cpu_seconds(pid, with_reaped_children=pid == root)
                         for pid in pids)
        if name == "postgres":
            used["postgres_walsender"] = sum(process_cpu_seconds(pid) for pid in pids
                                             if _is_walsender(pid))
    used["seed (this process)"] = time.process_time()
    return used


def bytes_on_disk(settings: Settings) -> dict[str, int]:
    """What the history left on disk: ClickHouse's active parts of the project's
    database, and Kafka's log directories (every topic, every replica)."""
    from boxoffice.stack.components.kafka import kafka_nodes
    from warehouse.executor import connect

    client = connect(settings)
    try:
        ((clickhouse,),) = client.query(
            "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = "
            "{db:String}", parameters={"db": settings.clickhouse_database}).result_rows
    finally:
        client.close()
    kafka = sum(f.stat().st_size for node in kafka_nodes(settings)
                for f in node.log_dir.rglob("*") if f.is_file())
    return {"clickhouse_bytes_on_disk": int(clickhouse or 0), "kafka_bytes_on_disk": kafka}


def _is_walsender(pid: int) -> bool:
    try:
        return b"walsender" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cpu_per_row(before: dict[str, float], after: dict[str, float],
                rows: int) -> dict[str, dict[str, float]]:
    """Each stage's CPU seconds over the run and microseconds per source row."""
    return {name: {"cpu_s": round(after[name] - before.get(name, 0.0), 1),
                   "us_per_source_row": round((after[name] - before.get(name, 0.0))
                                              / max(rows, 1) * 1e6, 2)}
            for name in sorted(after)}


def run(settings: Settings, *, scale: float, deadline_seconds: float,
        seed_value: int = 0) -> dict[str, Any]:
    from confluent_kafka import Consumer

    from warehouse.executor import connect

    if not pipeline.source_is_empty(settings):
        raise RuntimeError("bench_history needs an empty source: use a fresh pipeline")
    client = connect(settings, reader=True)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": "bench-history-probe"})
    load_start = load_average()
    cpu_before = stage_cpu_seconds(settings)
    started = time.monotonic()
    loaded = seed(settings, scale=scale, seed_value=seed_value)
    committed = time.monotonic() - started
    tickets = loaded.rows["tickets"]
    samples: list[dict[str, float]] = []
    caught_up: float | None = None
    try:
        while time.monotonic() - started < deadline_seconds:
            visible = _visible(client, settings)
            samples.append({"t": round(time.monotonic() - started, 1), "visible": visible,
                            "captured_offsets": _captured(settings, consumer),
                            "load_avg_1m": load_average()})
            if visible >= tickets:
                caught_up = time.monotonic() - started
                break
            time.sleep(SAMPLE_SECONDS)
        verified: float | None = None
        verify_ok = False
        verify_seconds = None
        if caught_up is not None:
            remaining = max(deadline_seconds - (time.monotonic() - started), 60.0)
            report = verify_until(settings, wait_seconds=remaining)
            verify_ok = report.ok
            verify_seconds = round(report.seconds, 1)
            if report.ok:
                verified = time.monotonic() - started
    finally:
        client.close()
        consumer.close()
    cpu_after = stage_cpu_seconds(settings)
    disk = bytes_on_disk(settings)
    total = verified if verified is not None else time.monotonic() - started
    visible_end = samples[-1]["visible"] if samples else 0
    capture_window = (caught_up or total) - committed
    return {
        "scale": scale,
        "source_rows": loaded.total_rows,
        "tickets": tickets,
        "seed_generate_s": round(loaded.generate_seconds, 1),
        "seed_load_s": round(loaded.load_seconds, 1),
        "seed_committed_s": round(committed, 1),
        "caught_up_s": round(caught_up, 1) if caught_up is not None else None,
        "verify_ok": verify_ok,
        "verify_last_run_s": verify_seconds,
        "seconds_until_verify": round(verified, 1) if verified is not None else None,
        "source_rows_per_s": round(loaded.total_rows / total) if verified else None,
        "tickets_visible_at_end": visible_end,
        "capture_tickets_per_s": round(visible_end / capture_window) if capture_window > 0
        else None,
        "deadline_s": deadline_seconds,
        "target_s": TARGET_SECONDS,
        "target_rows_per_s": TARGET_ROWS_PER_S,
        "met": bool(verified is not None and verified < TARGET_SECONDS
                    and loaded.total_rows / verified >= TARGET_ROWS_PER_S),
        "rows_by_table": dict(loaded.rows),
        **disk,
        "cpu_by_stage": cpu_per_row(cpu_before, cpu_after, loaded.total_rows),
        "load_avg_1m_start": load_start,
        "load_avg_1m_end": load_average(),
        "samples": samples[::5] + samples[-1:],
    }


def summary(result: dict[str, Any]) -> str:
    if result["seconds_until_verify"] is not None:
        return (f"scale {result['scale']:g}: {result['source_rows']:,} source rows verified "
                f"after {result['seconds_until_verify']} s = "
                f"{result['source_rows_per_s']:,} rows/s")
    return (f"scale {result['scale']:g}: verify did not pass within {result['deadline_s']:g} s;"
            f" {result['tickets_visible_at_end']:,} of {result['tickets']:,} tickets visible "
            f"({result['capture_tickets_per_s']} tickets/s after the seed committed)")


def main() -> None:
    from bench.environment import running_pipeline, unwind_on_sigterm

    unwind_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--deadline", type=float, default=1800.0,
                        help="give up (and report progress) after this many seconds")
    args = parser.parse_args()
    with running_pipeline("history", postgres_max_slot_wal_keep_size=WAL_KEEP) as settings:
        result = run(settings, scale=args.scale, deadline_seconds=args.deadline)
    write_result("history", result)
    print(summary(result))


if __name__ == "__main__":
    main()
