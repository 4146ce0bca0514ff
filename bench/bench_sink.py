"""Sink throughput into ClickHouse, in rows/s (target >= 200,000 rows/s on this machine).

Two figures: `insert_path` is the sink's writer alone (pre-serialised 50,000-row batches
of fact records, with tokens, through every materialized view); `end_to_end` is the whole
sink (consume from Kafka, validate every record, batch, insert, commit) over records
already in the facts topic. Starts its own Kafka and ClickHouse on free ports.

The machine is shared, so every figure is measured `--trials` times (best and median
reported, with the load average next to it), and `--baseline` also runs, in the same
Kafka and ClickHouse, the sink as it was before the throughput work (per-record FactRow
validation, consume(n, timeout) stalls, librdkafka's default prefetch, no overlap of
validation and insert) so the ratio is measured under the same load.

Throughput is the sink's steady rate, so the end-to-end figure leaves out two things that
are not: (1) one warm-up run first (`--warmup`; the broker's first fetches of a topic ran
at half speed in every earlier run, 80-88k rows/s, whatever the sink did); (2) a tail
that waits for the batch time limit: every partition holds a whole number of batches
(records go to partitions round-robin), so no last partial batch sits out
`sink_batch_seconds` (1 s) waiting for records that never come, which in a stream it
would not. CPU seconds of the sink, ClickHouse and Kafka are recorded per trial: on two
cores they share, the sum tells whether the run was CPU-bound.

    .venv/bin/python bench/bench_sink.py --rows 600000 --trials 3 --baseline
    BENCH_PROFILE=1 ...   # cProfile of the consume-and-validate loop (last trial)
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from bench.machine import process_cpu_seconds
from contracts.settings import Settings
from tests.native import NativeProvider
from tests.providers import test_settings
from warehouse.executor import ClientExecutor, connect
from warehouse.migrate import migrate
from warehouse.sink.app import build_sink, consumer_config
from warehouse.sink.records import _decode_fact_strictly
from warehouse.sink.routes import Route
from warehouse.sink.runner import Sink
from warehouse.sink.writer import ClickHouseWriter
from warehouse.synthetic import Workload

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 200_000
BATCH = 50_000
TOPIC = "bench.facts"
PARTITIONS = 3
PROFILE = bool(os.environ.get("BENCH_PROFILE"))
NEW_CONSUMER_KEYS = ("queued.min.messages", "fetch.queue.backoff.ms")


def load() -> float:
    return os.getloadavg()[0]


def fact_lines(rows: int) -> list[bytes]:
    workload = Workload(seed=3)
    workload.add_dimensions(bands=1400, venues=9, performances=2500)
    return [row.to_json() for _ in range(rows) for row in workload.insert()]


def fresh_database(settings: Settings, db: str) -> ClientExecutor:
    executor = ClientExecutor(connect(settings))
    executor.command(f"DROP DATABASE IF EXISTS {db}")
    migrate(executor, db)
    return executor


def insert_path(settings: Settings, lines: list[bytes], trial: int) -> float:
    db = f"bench_sink_insert_{trial}"
    executor = fresh_database(settings, db)
    writer = ClickHouseWriter(settings=settings, database=db)
    began = time.perf_counter()
    for start in range(0, len(lines), BATCH):
        writer.insert("fact_ticket_sales", lines[start:start + BATCH],
                      f"bench:0:{start}-{start + BATCH - 1}")
    seconds = time.perf_counter() - began
    writer.close()
    executor.command(f"DROP DATABASE IF EXISTS {db}")
    return len(lines) / seconds


def produce(settings: Settings, lines: list[bytes]) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS,
                                  replication_factor=1)])[TOPIC].result(120)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 50,
                         "batch.size": 1_000_000, "queue.buffering.max.messages": 2_000_000})
    for i, line in enumerate(lines):
        producer.produce(TOPIC, key=str(i).encode(), value=line, partition=i % PARTITIONS)
        if i % 100_000 == 0:
            producer.poll(0)
    producer.flush(120)


def baseline_sink(settings: Settings) -> Sink:
    """The sink as it was: FactRow validation per record, consume(n, timeout), default
    prefetch, inserts not overlapped with fetching (max_buffered = 0)."""
    config = {k: v for k, v in consumer_config(settings).items()
              if k not in NEW_CONSUMER_KEYS}
    sink = build_sink(settings, topic_routes={
        TOPIC: Route(TOPIC, "fact_ticket_sales",
                     lambda _key, value: _decode_fact_strictly(value or b""))})
    sink.consumer.close()
    sink.consumer = Consumer(config)
    sink.max_buffered = 0

    def stalling_fetch(limit: int, timeout: float) -> list[Any]:
        return list(sink.consumer.consume(num_messages=limit, timeout=timeout))

    sink._fetch = stalling_fetch  # type: ignore[method-assign]
    return sink


def end_to_end(settings: Settings, rows: int, trial: int,
               make_sink: Callable[[Settings], Sink]) -> float:
    db = f"bench_sink_e2e_{trial}"
    s = settings.model_copy(update={"clickhouse_database": db, "facts_topic": TOPIC,
                                    "sink_group": f"bench-sink-{trial}",
                                    "sink_batch_rows": BATCH})
    executor = fresh_database(s, db)
    sink = make_sink(s)
    stop = threading.Event()
    sink.subscribe()
    while sink.poll_once() == 0:
        pass  # the clock starts at the first record: joining the group is not throughput
    began = time.perf_counter()
    stored = 0
    polling = 0.0
    profile = cProfile.Profile() if PROFILE else None
    while stored < rows:
        t0 = time.perf_counter()
        if profile:
            profile.enable()
        sink.poll_once()
        if profile:
            profile.disable()
        polling += time.perf_counter() - t0
        stored += sink.flush(stop)
    seconds = time.perf_counter() - began
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)
    print(f"  end to end {seconds:.1f}s ({polling:.1f}s in poll_once outside flushes)")
    sink.close()
    sink.dead_letters.flush(10)
    executor.command(f"DROP DATABASE IF EXISTS {db}")
    return rows / seconds


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by this process (the sink) and each stack process."""
    used = {"sink": time.process_time()}
    for name, pid in pids.items():
        used[name] = process_cpu_seconds(pid)
    return used


def measure(name: str, trials: int, run: Callable[[int], float], pids: dict[str, int],
            warmup: int = 0) -> dict[str, Any]:
    for trial in range(warmup):
        print(f"{name:24} warm-up: {run(1000 + trial):10,.0f} rows/s (not counted)")
    samples, values = [], []
    for trial in range(trials):
        before, cpu_before = load(), cpu_seconds(pids)
        began = time.perf_counter()
        value = run(trial)
        wall = time.perf_counter() - began
        cpu = {k: round(v - cpu_before[k], 2) for k, v in cpu_seconds(pids).items()}
        average = round((before + load()) / 2, 2)
        values.append(value)
        samples.append({"rows_per_s": value, "load_avg_1m": average,
                        "wall_s": round(wall, 2), "cpu_s": cpu})
        print(f"{name:24} trial {trial}: {value:10,.0f} rows/s  (load {average}; "
              f"cpu s {cpu} in {wall:.1f} s)")
    return {"best": max(values), "median": statistics.median(values), "trials": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=600_000,
                        help=f"a multiple of {PARTITIONS} x {BATCH:,} (whole batches)")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--baseline", action="store_true")
    args = parser.parse_args()
    if args.rows % (PARTITIONS * BATCH):
        parser.error(f"--rows must be a multiple of {PARTITIONS * BATCH:,}: every "
                     f"partition then ends on a whole batch")
    lines = fact_lines(args.rows)
    report: dict[str, Any] = {"rows": args.rows, "batch_rows": BATCH,
                              "partitions": PARTITIONS, "warmup_runs": args.warmup,
                              "target_rows_per_s": TARGET, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench-sink-") as state:
        settings = test_settings(Path(state))
        provider = NativeProvider(settings)
        try:
            provider.ensure("kafka")
            provider.ensure("clickhouse")
            produce(settings, lines)
            supervisor = provider.supervisor
            pids = {name: pid for name in ("clickhouse", "kafka")
                    if (pid := supervisor.pid_of(supervisor.component(name))) is not None}
            report["insert_path"] = measure(
                "insert_path", args.trials, lambda t: insert_path(settings, lines, t), pids)
            report["end_to_end"] = measure(
                "end_to_end", args.trials,
                lambda t: end_to_end(settings, args.rows, t, build_sink), pids,
                warmup=args.warmup)
            if args.baseline:
                report["end_to_end_baseline"] = measure(
                    "end_to_end_baseline", args.trials,
                    lambda t: end_to_end(settings, args.rows, 100 + t, baseline_sink), pids)
        finally:
            provider.close()
    # flat keys kept for readers of the previous format
    report["insert_path_rows_per_s"] = report["insert_path"]["best"]
    report["end_to_end_rows_per_s"] = report["end_to_end"]["best"]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "bench_sink.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"{'measure':24} {'best rows/s':>12} {'median':>12}  target {TARGET:,}")
    for key in ("insert_path", "end_to_end", "end_to_end_baseline"):
        if key in report:
            best, median = report[key]["best"], report[key]["median"]
            print(f"{key:24} {best:12,.0f} {median:12,.0f}  "
                  f"{'yes' if best >= TARGET else 'NO'}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
