"""Benchmark of the stream processors: CDC events per second.

Two figures:

* ``pure``: the worker's per-event work without Kafka (parse the Debezium record, route,
  encode/decode the join-topic record, apply to the partition's `JoinState`, serialise
  the deltas and the changelog entries);
* ``worker``: one Faust worker process against a real local broker (started here in a
  temporary state directory, stopped afterwards): Debezium-shaped records are produced
  to the CDC topics first, then the worker is started and the rate is measured from its
  first consumed event to its last emitted delta (read from its metrics page).

Writes bench/results/processors.json and prints a table. Target: >= 20,000 events/s
per worker.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from pydantic import SecretStr

from bench.machine import process_cpu_seconds
from contracts.settings import REPO_ROOT, Settings, load_settings
from contracts.topics import processor_input_topics
from stream_processors.app import METRICS_PAGE
from stream_processors.changelog import encode_entry
from stream_processors.changes import parse_change
from stream_processors.heartbeats import Beat
from stream_processors.join import JoinState
from stream_processors.routing import route
from stream_processors.wire import decode_values, delta_json, encode

RESULTS = REPO_ROOT / "bench" / "results" / "processors.json"
PREVIOUS = {
    "design": "Faust agents route (CDC topics) and join (join topic), one event at a time",
    "pure_events_per_s": 22695, "worker_events_per_s": 3074, "worker_events_per_cpu_s": 3676,
    "load_average_1m": 4.45,
}
"""The last recorded run of the Faust-agent design this benchmark replaced."""
SALT = "bench-salt"


def cdc_records(*, tickets: int, updates: int, seed: int = 7) -> list[tuple[str, bytes, bytes]]:
    """(table, key, value): a snapshot of the three tables, then a stream of changes.

    Shape at small scale: one performance per ~1,400 tickets, two tickets per purchase.
    """
    rnd = random.Random(seed)
    performances = max(tickets // 1400, 1)
    purchases = max(tickets // 2, 1)
    lsn = 1000
    out: list[tuple[str, bytes, bytes]] = []
    rows: dict[str, dict[int, dict[str, Any]]] = {"tickets": {}, "purchases": {},
                                                   "performances": {}}

    def emit(table: str, op: str, row_id: int, after: dict[str, Any] | None) -> None:
        nonlocal lsn
        lsn += 8
        before = rows[table].get(row_id)
        if after is None:
            rows[table].pop(row_id, None)
        else:
            rows[table][row_id] = after
        value = {"before": before, "after": after, "op": op,
                 "source": {"lsn": 500 if op == "r" else lsn, "ts_ms": lsn, "txId": 1},
                 "ts_ms": lsn}
        out.append((table, json.dumps({"id": row_id}).encode(), json.dumps(value).encode()))

    def ticket(i: int) -> dict[str, Any]:
        return {"id": i, "price": rnd.choice([20, 25, 30]), "ticketnum": f"T{i}",
                "performance_id": rnd.randint(1, performances),
                "purchase_id": rnd.randint(1, purchases)}

    def purchase(i: int) -> dict[str, Any]:
        return {"id": i, "person_id": rnd.randint(1, 150_000),
                "purchase_date": f"2022-09-{rnd.randint(1, 28):02d}T10:00:00.000000Z"}

    for i in range(1, performances + 1):
        emit("performances", "r", i, {"id": i, "band_id": rnd.randint(1, 1400),
                                      "venue_id": rnd.randint(1, 9),
                                      "performance_start": "2022-10-07T19:00:00.000000Z"})
    for i in range(1, purchases + 1):
        emit("purchases", "r", i, purchase(i))
    for i in range(1, tickets + 1):
        emit("tickets", "r", i, ticket(i))
    next_ticket = tickets + 1
    for _ in range(updates):
        roll = rnd.random()
        if roll < 0.5:
            emit("tickets", "c", next_ticket, ticket(next_ticket))
            next_ticket += 1
        elif roll < 0.8:
            i = rnd.randint(1, tickets)
            if i in rows["tickets"]:
                emit("tickets", "u", i, ticket(i))
        elif roll < 0.85:
            i = rnd.randint(1, tickets)
            if i in rows["tickets"]:
                emit("tickets", "d", i, None)
        else:
            i = rnd.randint(1, purchases)
            emit("purchases", "u", i, purchase(i))
    return out


def bench_pure(records: list[tuple[str, bytes, bytes]], partitions: int) -> dict[str, Any]:
    """The worker's own per-event work without Kafka: parse, route and encode (route
    stage); decode, join and serialise the deltas and the changelog entries (join stage)."""
    writes: dict[str, Any] = {}
    states = [JoinState(salt=SALT, writer=writes.__setitem__) for _ in range(partitions)]
    deltas = 0
    rss_before = _rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    for table, key, value in records:
        change = parse_change(table, key, value)
        assert change is not None
        for partition, routed in route(change, partitions):
            item = decode_values(encode(routed))
            assert not isinstance(item, Beat)
            for delta in states[partition].apply_values(*item):
                str(delta[0]).encode()
                delta_json(delta)
                deltas += 1
        if len(writes) > 5000:  # the join stage encodes a batch's entries once
            for entry_key, entry in writes.items():
                encode_entry(entry_key, entry)
            writes.clear()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    rows = sum(1 for state in states for _ in state.entries())
    return {"events": len(records), "deltas": deltas, "seconds": round(elapsed, 3),
            "events_per_s": round(len(records) / elapsed),
            "events_per_cpu_s": round(len(records) / max(cpu, 1e-6)),
            "memory": {"stored_rows": rows, "rss_growth_bytes": _rss() - rss_before,
                       "bytes_per_row": round((_rss() - rss_before) / max(rows, 1))}}


def _rss() -> int:
    """Resident memory of this process, in bytes (from /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def _settings(state_dir: Path, kafka_port: int | None) -> Settings:
    from tests.providers import free_port

    run = f"bench{int(time.time())}"
    return load_settings(
        state_dir=state_dir, tools_dir=REPO_ROOT / ".boxoffice" / "tools",
        kafka_port=kafka_port or free_port(), kafka_controller_port=free_port(),
        faust_web_port=free_port(), faust_app_id=f"{run}-processors", topic_prefix=run,
        facts_topic=f"{run}.facts", dead_letter_topic=f"{run}.dlq",
        heartbeat_topic=f"{run}.heartbeats", metrics_topic=f"{run}.metrics",
    ).model_copy(update={"person_hash_salt": SecretStr(SALT)})


def _start_kafka(settings: Settings) -> Any:
    from boxoffice.stack.components.kafka import Kafka
    from boxoffice.stack.supervisor import Supervisor

    supervisor = Supervisor(settings=settings, components=[Kafka(settings=settings)])
    supervisor.up(["kafka"], progress=lambda line: print(f"[stack] {line}", file=sys.stderr))
    return supervisor


def _warm_up(settings: Settings) -> None:
    """A fresh broker creates its transaction-state topic on first use (up to a minute
    on a busy machine); do that before the clock starts."""
    Producer({"bootstrap.servers": settings.kafka_bootstrap,
              "transactional.id": f"{settings.faust_app_id}-warmup"}).init_transactions(180)


def bench_worker(records: list[tuple[str, bytes, bytes]], settings: Settings,
                 log: Path) -> dict[str, Any]:
    from tests.integration.stream_processors.harness import start_worker, stop

    topics = {table: name for name, table in processor_input_topics(settings).items()}
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    for future in admin.create_topics([NewTopic(t, num_partitions=settings.kafka_partitions,
                                                replication_factor=1)
                                       for t in topics.values()]).values():
        future.result(30)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 50,
                         "compression.type": "lz4"})
    for table, key, value in records:
        while True:
            try:
                producer.produce(topics[table], key=key, value=value)
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
        producer.poll(0)
    producer.flush(120)
    worker = start_worker(settings, index=0, log=log)
    url = f"http://{settings.bind_host}:{settings.faust_web_port}{METRICS_PAGE}"
    samples: list[tuple[float, int, int]] = []
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            time.sleep(0.25)
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited ({worker.returncode}); see {log}")
            try:
                page = requests.get(url, timeout=2).json()
            except (requests.RequestException, ValueError):
                continue
            if not str(page.get("worker", "")).startswith(settings.faust_app_id):
                raise RuntimeError(f"another process answers on {url}: {page.get('worker')}")
            samples.append((time.monotonic(), page["events_in"], page["events_out"]))
            done = page["events_in"] >= len(records)
            stable = len(samples) > 20 and samples[-20][2] == samples[-1][2] > 0
            if done and stable:
                break
        cpu_s = process_cpu_seconds(worker.pid)
    finally:
        stop(worker)
    first = next(t for t, seen, _ in samples if seen > 0)
    last = next(t for t, _, out in samples if out == samples[-1][2])
    elapsed = max(last - first, 1e-3)
    return {"events": len(records), "deltas": samples[-1][2], "seconds": round(elapsed, 2),
            "events_per_s": round(len(records) / elapsed),
            "worker_cpu_seconds": round(cpu_s, 2),
            "events_per_cpu_s": round(len(records) / max(cpu_s, 1e-3)),
            "note": "rate between the first consumed event and the last emitted delta, "
                    "sampled every 0.25 s (+-0.25 s on the duration); the broker's "
                    "transaction coordinator is warmed up before the worker starts"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=150_000)
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--skip-worker", action="store_true")
    parser.add_argument("--kafka-port", type=int, default=None,
                        help="use a broker already running on bind_host:PORT")
    args = parser.parse_args()
    records = cdc_records(tickets=args.tickets, updates=args.updates)
    load_start = [round(x, 2) for x in os.getloadavg()]
    result: dict[str, Any] = {"target_events_per_s": 20_000,
                              "machine": f"{_cpus()} cores",
                              "pure": bench_pure(records, partitions=3)}
    if not args.skip_worker:
        with tempfile.TemporaryDirectory(prefix="bench-processors-") as tmp:
            settings = _settings(Path(tmp), args.kafka_port)
            supervisor = None if args.kafka_port else _start_kafka(settings)
            try:
                _warm_up(settings)
                result["worker"] = bench_worker(records, settings, Path(tmp) / "worker.log")
            finally:
                if supervisor is not None:
                    supervisor.down(progress=lambda line: print(f"[stack] {line}",
                                                                file=sys.stderr))
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    result["load_average"] = {"start_1_5_15m": load_start,
                              "end_1_5_15m": [round(x, 2) for x in os.getloadavg()]}
    result["previous"] = PREVIOUS
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'stage':<8} {'events':>9} {'deltas':>9} {'seconds':>8} {'events/s':>10} "
          f"{'events/cpu-s':>13}")
    for stage in ("pure", "worker"):
        if stage in result:
            r = result[stage]
            print(f"{stage:<8} {r['events']:>9} {r['deltas']:>9} {r['seconds']:>8} "
                  f"{r['events_per_s']:>10} {r.get('events_per_cpu_s', '-'):>13}")
    print(f"machine load average (1/5/15 min): {load_start} at the start, "
          f"{result['load_average']['end_1_5_15m']} at the end, on {_cpus()} cores")
    print(f"target: >= {result['target_events_per_s']} events/s per worker")


def _cpus() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
