"""`replay facts` throughput in fact rows/s (target >= 100,000 rows/s on this machine).

Synthesizes fact records (the synthetic workload at the festival's scale of bands,
venues and performances: sales, corrections, refunds) into a facts topic, loads them
into a live database, then times `replay_facts` end to end: shadow migration, the bulk
read (consume, validate with the sink's decoder, count, insert through every
materialized view), the checks and the swap. Starts its own Kafka and ClickHouse on
free ports; no sink runs, so the figures are the replay's own.

    .venv/bin/python bench/bench_replay.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from rich.console import Console
from rich.table import Table

from contracts.columns import add_amount
from contracts.settings import Settings
from tests.native import NativeProvider
from tests.providers import test_settings
from warehouse.executor import ClientExecutor, connect
from warehouse.migrate import migrate
from warehouse.replay import ReplayOptions, replay_facts
from warehouse.synthetic import Workload

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 100_000


def produce(settings: Settings, rows: int) -> int:
    """About `rows` fact records: sales, and every tenth sale corrected at once (a
    retraction and a new row, as the processors emit an update). Returns the count."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    for future in admin.create_topics([NewTopic(settings.facts_topic,
                                                num_partitions=settings.kafka_partitions,
                                                replication_factor=1)]).values():
        future.result(30)
    workload = Workload(seed=5)
    workload.add_dimensions(bands=1400, venues=9, performances=2500)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 50,
                         "batch.size": 1_000_000, "compression.type": "lz4",
                         "queue.buffering.max.messages": 1_000_000})
    produced = 0
    while produced < rows:
        (row,) = workload.insert()
        deltas = [row]
        if row.ticket_id % 10 == 0:
            version = row.version + 1
            deltas += [row.with_sign(-1, version=version, source_ts_ms=row.source_ts_ms),
                       replace(row, ticket_price=add_amount(row.ticket_price, 5), version=version)]
        for delta in deltas:
            while True:
                try:
                    producer.produce(settings.facts_topic, key=delta.key,
                                     value=delta.to_json())
                    break
                except BufferError:
                    producer.poll(0.2)
            produced += 1
        if produced % 10_000 < 3:
            producer.poll(0)
    assert producer.flush(300) == 0
    return produced


def run(rows: int, batch_rows: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as state:
        settings = test_settings(Path(state)).model_copy(
            update={"clickhouse_database": "bench_replay", "facts_topic": "bench.facts.v1"})
        provider = NativeProvider(settings)
        try:
            provider.ensure("kafka")
            provider.ensure("clickhouse")
            executor = ClientExecutor(connect(settings))
            migrate(executor, settings.clickhouse_database)
            began = time.perf_counter()
            produced = produce(settings, rows)
            print(f"produced {produced:,} fact records in {time.perf_counter() - began:.1f} s")
            began = time.perf_counter()
            report = replay_facts(settings, sink=None, say=print, sink_has_read=False,
                                  options=ReplayOptions(batch_rows=batch_rows))
            total_seconds = time.perf_counter() - began
            executor.client.close()
        finally:
            provider.close()
    return {
        "rows": report.read.rows,
        "batch_rows": batch_rows,
        "partitions": settings.kafka_partitions,
        "target_rows_per_s": TARGET,
        "bulk_seconds": round(report.bulk_seconds, 2),
        "bulk_rows_per_s": round(report.rows_per_second),
        "total_seconds": round(total_seconds, 2),
        "total_rows_per_s": round(report.read.rows / total_seconds),
        "swapped": report.swapped,
        "tables": report.tables,
        "meets_target": report.rows_per_second >= TARGET,
    }


def main() -> None:
    # SIGTERM unwinds like Ctrl-C, so the services this run started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=200_000)
    args = parser.parse_args()
    result = run(args.rows, args.batch_rows)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "replay.json").write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title="replay facts throughput")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) and not
                      isinstance(value, bool) else str(value))
    Console().print(table)


if __name__ == "__main__":
    main()
