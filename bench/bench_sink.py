"""Sink throughput into ClickHouse, in rows/s (target >= 200,000 rows/s on this machine).

Two figures: `insert_path` is the sink's writer alone (pre-serialised 50,000-row batches
of fact records, with tokens, through every materialized view); `end_to_end` is the whole
sink (consume from Kafka, validate every record, batch, insert, commit) over records
already in the facts topic. Starts its own Kafka and ClickHouse on free ports.

    .venv/bin/python bench/bench_sink.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from boxoffice.settings import Settings
from tests.native import NativeProvider
from tests.providers import test_settings
from warehouse.executor import ClientExecutor, connect
from warehouse.migrate import migrate
from warehouse.sink.app import build_sink
from warehouse.sink.writer import ClickHouseWriter
from warehouse.synthetic import Workload

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 200_000
BATCH = 50_000


def fact_lines(rows: int) -> list[bytes]:
    workload = Workload(seed=3)
    workload.add_dimensions(bands=1400, venues=9, performances=2500)
    return [row.to_json() for _ in range(rows) for row in workload.insert()]


def insert_path(settings: Settings, lines: list[bytes]) -> float:
    db = "bench_sink_insert"
    executor = ClientExecutor(connect(settings))
    executor.command(f"DROP DATABASE IF EXISTS {db}")
    migrate(executor, db)
    writer = ClickHouseWriter(settings=settings, database=db)
    began = time.perf_counter()
    for start in range(0, len(lines), BATCH):
        writer.insert("fact_ticket_sales", lines[start:start + BATCH],
                      f"bench:0:{start}-{start + BATCH - 1}")
    seconds = time.perf_counter() - began
    writer.close()
    executor.command(f"DROP DATABASE IF EXISTS {db}")
    return len(lines) / seconds


def end_to_end(settings: Settings, lines: list[bytes]) -> float:
    db, topic = "bench_sink_e2e", "bench.facts"
    s = settings.model_copy(update={"clickhouse_database": db, "facts_topic": topic,
                                    "sink_group": "bench-sink", "sink_batch_rows": BATCH})
    executor = ClientExecutor(connect(s))
    executor.command(f"DROP DATABASE IF EXISTS {db}")
    migrate(executor, db)
    admin = AdminClient({"bootstrap.servers": s.kafka_bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic] \
        .result(120)
    producer = Producer({"bootstrap.servers": s.kafka_bootstrap, "linger.ms": 50,
                         "batch.size": 1_000_000, "queue.buffering.max.messages": 2_000_000})
    for i, line in enumerate(lines):
        producer.produce(topic, key=str(i).encode(), value=line)
        if i % 100_000 == 0:
            producer.poll(0)
    producer.flush(120)
    sink = build_sink(s)
    stop = threading.Event()
    sink.subscribe()
    began = time.perf_counter()
    stored = 0
    while stored < len(lines):
        sink.poll_once()
        stored += sink.flush(stop)
    seconds = time.perf_counter() - began
    sink.consumer.close()
    sink.writer.close()
    executor.command(f"DROP DATABASE IF EXISTS {db}")
    return len(lines) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    lines = fact_lines(args.rows)
    with tempfile.TemporaryDirectory(prefix="bench-sink-") as state:
        settings = test_settings(Path(state))
        provider = NativeProvider(settings)
        try:
            provider.ensure("kafka")
            provider.ensure("clickhouse")
            report = {"rows": args.rows, "batch_rows": BATCH, "target_rows_per_s": TARGET,
                      "insert_path_rows_per_s": insert_path(settings, lines),
                      "end_to_end_rows_per_s": end_to_end(settings, lines)}
        finally:
            provider.close()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "bench_sink.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"{'measure':28} {'rows/s':>12}  target {TARGET:,}")
    for key in ("insert_path_rows_per_s", "end_to_end_rows_per_s"):
        value = float(report[key])
        print(f"{key:28} {value:12,.0f}  {'yes' if value >= TARGET else 'NO'}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
