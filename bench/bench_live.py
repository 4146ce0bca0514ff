"""Live freshness: latency from source commit to visible aggregate under purchase load,
at 100 and 1,000 purchases/s and stepping up to the largest sustainable rate (targets:
p99 < 500 ms at 100 purchases/s and < 1 s at 1,000 purchases/s).

How latency is measured, three ways, because each has a blind spot:

* ``per_purchase``: every purchase of the step. Its facts carry ``source_ts_ms`` (the
  PostgreSQL commit time Debezium reads from the WAL) and ClickHouse stamps
  ``ingested_at`` (server clock, same machine) when the sink's INSERT reaches it; the
  materialized aggregates are written by that same INSERT. Latency = the later of its
  tickets' ``ingested_at - source_ts_ms``. Blind spot: the INSERT's own duration
  (the row is visible when the INSERT finishes, a few ms later).
* ``markers``: once a second a marker purchase is committed and ClickHouse is polled
  (every 50 ms, as the read-only BI user) until its fact row is visible: the latency a
  reader sees, +-50 ms, on a sample of about one per second.
* ``heartbeat_freshness``: what `boxoffice status` reports (now - newest heartbeat),
  sampled once a second.

The load: N processes running `connectors.traffic.sell` with the purchase-only mix (one
transaction per purchase of 1-8 tickets), N = ceil(rate / 100), on the same 2 cores as
the pipeline. Before each step the pipeline settles (a marker under 2 s). The pipeline
*kept up* with a step when the last third of the step is not slower than the first third
by more than 1 s at p95, its p99 stays under 5 s, and every purchase is visible within
15 s after the load stops; the *maximum sustainable rate* is the highest achieved rate
of a step it kept up with. The generators may deliver less than offered (they share the
cores); the achieved rate is what counts, and the 1,000/s target is only met if >= 95 %
of it was delivered.

    .venv/bin/python -m bench.bench_live --rates 100,1000 --seconds 40
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import queue
import statistics
import threading
import time
from typing import Any

from bench.machine import load_average
from bench.record import write_result
from contracts.settings import Settings

TARGETS_P99_S = {100.0: 0.5, 1000.0: 1.0}
"""Issue 20: p99 under 500 ms at 100 purchases/s and under 1 s at 1,000/s."""
TARGET_RATE = 1000.0
"""The rate whose step decides whether to ramp up (it kept up) or back off."""
PER_GENERATOR = 100.0
"""One `sell` process delivered about 150 purchases/s under load; keep each below."""
DRAIN_LIMIT_S = 15.0
RAMP = (1500.0, 2000.0, 3000.0, 4000.0)
BACKOFF = (700.0, 500.0, 350.0, 250.0, 150.0, 100.0)
SETTLED_S = 2.0


def _sell(settings: Settings, rate: float, seconds: float, seed: int, nice: int,
          out: Any) -> None:
    """One generator process, at `nice` (a lower CPU priority than the pipeline's, so
    the load it offers is not paid for with the pipeline's CPU). `sell` is not written
    for concurrent generators: one can pick a person another has inserted but not yet
    committed (a foreign-key violation); such a purchase is rolled back and the
    generator goes on with a new plan."""
    import psycopg2

    from connectors.traffic import sell

    os.nice(nice)
    deadline = time.monotonic() + seconds
    restarts = 0
    started = time.time()
    try:
        while (left := deadline - time.monotonic()) > 0.2:
            try:
                sell(settings, rate=rate, duration=left, mix={"purchase": 1.0},
                     seed=seed + 7919 * restarts)
            except psycopg2.IntegrityError:
                restarts += 1
    finally:
        out.put((restarts, started, time.time(), time.process_time()))


def _purchases(settings: Settings) -> tuple[int, int]:
    """(max id, count) of the source's purchases."""
    from connectors.db import connect

    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"select coalesce(max(id), 0), count(*) "
                        f"from {settings.source_schema}.purchases")
            row = cur.fetchone()
    finally:
        conn.close()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def offer(settings: Settings, rate: float, seconds: float, nice: int = 0) -> dict[str, float]:
    """Purchases at `rate` per second for `seconds`, split over generator processes; the
    achieved rate is what PostgreSQL committed (marker purchases included, about 1/s).
    `generator_cpu_share`: the generators' own CPU seconds over the machine's CPU seconds
    in the window (their PostgreSQL backends are the source's work, not counted)."""
    context = multiprocessing.get_context("spawn")
    count = max(1, math.ceil(rate / PER_GENERATOR))
    out = context.Queue()
    workers = [context.Process(target=_sell, args=(settings, rate / count, seconds,
                                                   1000 + i, nice, out))
               for i in range(count)]
    _, before = _purchases(settings)
    for worker in workers:
        worker.start()
    reports = []
    for _ in workers:
        try:
            reports.append(out.get(timeout=seconds + 120))
        except queue.Empty:
            break
    for worker in workers:
        worker.join(30)
    _, after = _purchases(settings)
    if len(reports) < count:
        raise RuntimeError(f"{count - len(reports)} of {count} load generators did not "
                           "report; see the traceback above")
    window = max(r[2] for r in reports) - min(r[1] for r in reports)
    purchases = after - before
    cpu = sum(r[3] for r in reports)
    return {"generators": count, "purchases": purchases, "generator_nice": nice,
            "generator_restarts": sum(r[0] for r in reports),
            "generator_cpu_share": round(cpu / (max(window, 1e-3) * (os.cpu_count() or 1)), 3),
            "achieved_per_s": round(purchases / max(window, 1e-3), 1)}


class Probes:
    """Marker purchases and heartbeat freshness, once a second, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.markers: list[float] = []
        self.freshness: list[float] = []
        self.failures = 0
        self.freshness_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probes", daemon=True)

    def _run(self) -> None:
        from boxoffice.status import freshness_seconds
        from tests.integration.operate.marker import measure

        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self.markers.append(measure(self.settings, deadline_seconds=30).latency)
            except Exception:  # a marker lost under overload is counted, not fatal
                self.failures += 1
            try:
                seconds = freshness_seconds(self.settings)
                if seconds is not None:
                    self.freshness.append(seconds)
            except Exception as exc:  # status's own reading; keep the first reason
                self.freshness_error = self.freshness_error or " ".join(str(exc).split())[:200]
            self._stop.wait(max(0.0, 1.0 - (time.monotonic() - began)))

    def __enter__(self) -> Probes:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(60)


def percentiles(samples: list[float]) -> dict[str, float | int | None]:
    """n, p50, p95, p99 and max of latency samples (None where too few to say).

    Public so the harness's unit tests check the figures the report prints."""
    if len(samples) < 2:
        return {"n": len(samples), "p50_s": samples[0] if samples else None,
                "p95_s": None, "p99_s": None, "max_s": samples[0] if samples else None}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"n": len(samples), "p50_s": round(cuts[49], 3), "p95_s": round(cuts[94], 3),
            "p99_s": round(cuts[98], 3), "max_s": round(max(samples), 3)}


def _max_ticket(settings: Settings) -> int:
    from connectors.db import connect

    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"select coalesce(max(id), 0) from {settings.source_schema}.tickets")
            row = cur.fetchone()
    finally:
        conn.close()
    return int(row[0]) if row else 0


def _source_count(settings: Settings, low: int, high: int) -> int:
    from connectors.db import connect

    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"select count(*) from {settings.source_schema}.tickets "
                        "where id > %s and id <= %s", (low, high))
            row = cur.fetchone()
    finally:
        conn.close()
    return int(row[0]) if row else 0


def _range_filter(low: int, high: int) -> str:
    return f"sign = 1 AND ticket_id > {low} AND ticket_id <= {high}"


def _drain(settings: Settings, client: Any, low: int, high: int) -> float | None:
    """Seconds until every ticket of the step is visible (None: not within the limit)."""
    from tests.support.waiting import wait_until

    expected = _source_count(settings, low, high)
    began = time.monotonic()
    db = settings.clickhouse_database

    def drained() -> bool:
        seen = client.query(f"SELECT uniqExact(ticket_id) FROM {db}.fact_ticket_sales "
                            f"WHERE {_range_filter(low, high)}").result_rows[0][0]
        return bool(seen >= expected)

    try:
        wait_until(drained, deadline_seconds=DRAIN_LIMIT_S * 4, poll=0.1,
                   what="every ticket of the step in ClickHouse")
    except AssertionError:
        return None  # not drained within the limit: the step did not keep up
    return round(time.monotonic() - began, 2)


def _per_purchase(settings: Settings, client: Any, low: int, high: int
                  ) -> tuple[list[float], list[float], list[float]]:
    """Latency (s) of every purchase of the step, all and by first/last third."""
    db = settings.clickhouse_database
    rows = client.query(
        f"SELECT min(source_ts_ms) AS committed, "
        f"max(toUnixTimestamp64Milli(ingested_at) - source_ts_ms) AS lag "
        f"FROM {db}.fact_ticket_sales WHERE {_range_filter(low, high)} "
        f"GROUP BY purchase_id ORDER BY committed").result_rows
    lags = [max(0, int(r[1])) / 1000 for r in rows]
    third = max(1, len(lags) // 3)
    return lags, lags[:third], lags[-third:]


def settle(settings: Settings, deadline_seconds: float = 180.0) -> float | None:
    """Wait until a marker travels in under SETTLED_S (the backlog of an earlier step is
    gone); the last marker latency, None if it never got there."""
    from tests.integration.operate.marker import measure

    deadline = time.monotonic() + deadline_seconds
    latency = None
    while time.monotonic() < deadline:
        latency = measure(settings, deadline_seconds=deadline_seconds).latency
        if latency < SETTLED_S:
            return round(latency, 3)
        time.sleep(1.0)
    return latency


def step(settings: Settings, rate: float, seconds: float, nice: int = 0) -> dict[str, Any]:
    """One rate for `seconds`: latency figures, where the time went (the heartbeats' hops
    over the last minute, as `boxoffice status` shows them) and whether the pipeline
    kept up."""
    from boxoffice.status.hops import hop_latencies
    from warehouse.executor import connect

    settled = settle(settings)
    client = connect(settings, reader=True)
    try:
        low = _max_ticket(settings)
        load_start = load_average()
        with Probes(settings) as probes:
            offered = offer(settings, rate, seconds, nice)
            hops = hop_latencies(client, settings.clickhouse_database,
                                 window_seconds=seconds)
            high = _max_ticket(settings)
            drain = _drain(settings, client, low, high)
        lags, first, last = _per_purchase(settings, client, low, high)
    finally:
        client.close()
    every = percentiles(lags)
    early, late = percentiles(first), percentiles(last)
    kept_up = bool(drain is not None and drain <= DRAIN_LIMIT_S
                   and late["p95_s"] is not None and early["p95_s"] is not None
                   and late["p95_s"] <= early["p95_s"] + 1.0
                   and late["p99_s"] is not None and late["p99_s"] < 5.0)
    delivered = offered["achieved_per_s"] >= 0.95 * rate
    return {
        "offered_per_s": rate, **offered, "seconds": seconds, "settled_marker_s": settled,
        "per_purchase": every, "first_third": early, "last_third": late,
        "markers": {**percentiles(probes.markers), "lost": probes.failures},
        "heartbeat_freshness": {**percentiles(probes.freshness),
                                "error": probes.freshness_error},
        "hops_ms": hops, "hops_window_s": seconds,
        "drain_s": drain, "generator_delivered": delivered, "pipeline_kept_up": kept_up,
        "sustainable": kept_up,
        "load_avg_1m_start": load_start, "load_avg_1m_end": load_average(),
    }


def warm_up(settings: Settings, seed_scale: float) -> None:
    """A small history, then wait until a marker travels the whole path."""
    from connectors.seed import seed
    from tests.integration.operate.marker import measure

    seed(settings, scale=seed_scale, seed_value=0)
    measure(settings, deadline_seconds=600)


def run(settings: Settings, *, rates: list[float], seconds: float, ramp: bool,
        seed_scale: float = 0.01, nice: int = 0, say: Any = print) -> dict[str, Any]:
    warm_up(settings, seed_scale)
    steps: list[dict[str, Any]] = []

    def measure_rate(rate: float) -> dict[str, Any]:
        say(f"live: {rate:g} purchases/s for {seconds:g} s")
        result = step(settings, rate, seconds, nice)
        say(f"live: {rate:g}/s -> achieved {result['achieved_per_s']}/s, per-purchase "
            f"p50 {result['per_purchase']['p50_s']} p99 {result['per_purchase']['p99_s']} s,"
            f" sustainable {result['sustainable']}")
        steps.append(result)
        return result

    for rate in rates:
        measure_rate(rate)
    if ramp:
        ladder = RAMP if any(s["sustainable"] and s["generator_delivered"]
                             and s["offered_per_s"] >= TARGET_RATE for s in steps) else BACKOFF
        for rate in ladder:
            if any(s["offered_per_s"] == rate for s in steps):
                continue
            result = measure_rate(rate)
            if (ladder is RAMP) != result["sustainable"]:
                break
    sustainable = [s for s in steps if s["sustainable"]]
    verdicts = {rate: target_met(steps, rate, p99) for rate, p99 in TARGETS_P99_S.items()}
    return {
        "steps": steps, "generator_nice": nice,
        "max_sustainable_per_s": max((s["achieved_per_s"] for s in sustainable), default=None),
        "max_sustainable_offered_per_s": max((s["offered_per_s"] for s in sustainable),
                                             default=None),
        "max_generated_per_s": max(s["achieved_per_s"] for s in steps),
        "max_is_a_lower_bound": generator_limited(steps),
        "targets_p99_s": {f"{rate:g}": p99 for rate, p99 in TARGETS_P99_S.items()},
        "met_by_rate": {f"{rate:g}": met for rate, met in verdicts.items()},
        "met": all(verdicts.values()),
    }


def target_met(steps: list[dict[str, Any]], rate: float, p99_s: float) -> bool | None:
    """The target at `rate`: None when no step ran it, else whether its p99 stayed under
    `p99_s` with at least 95 % of the rate delivered."""
    step = next((s for s in steps if s["offered_per_s"] == rate), None)
    if step is None:
        return None
    p99 = step["per_purchase"]["p99_s"]
    return bool(step["generator_delivered"] and p99 is not None and p99 < p99_s)


def generator_limited(steps: list[dict[str, Any]]) -> bool:
    """True when the pipeline kept up with the most the generators delivered: the
    maximum sustainable rate is then the generators' limit, a lower bound. Public so
    the harness's unit tests check the claim the report makes."""
    return bool(max(steps, key=lambda s: s["achieved_per_s"])["sustainable"])


def hop_words(hops: dict[str, dict[str, int]] | None) -> str:
    """"kafka 310/640, fact 420/900, stored 700/1400" (ms from the source commit)."""
    if not hops:
        return "-"
    return ", ".join(f"{hop} {v['p50']}/{v['p99']}" for hop, v in hops.items())


def print_table(result: dict[str, Any]) -> None:
    print(f"{'offered/s':>9} {'achieved/s':>10} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7} "
          f"{'marker p50':>10} {'marker p99':>10} {'drain s':>7} {'load':>5}  sustainable"
          f"  gen cpu  hops p50/p99 ms")
    for s in result["steps"]:
        pp, mk = s["per_purchase"], s["markers"]
        print(f"{s['offered_per_s']:9.0f} {s['achieved_per_s']:10.1f} {pp['p50_s']!s:>7} "
              f"{pp['p95_s']!s:>7} {pp['p99_s']!s:>7} {mk['p50_s']!s:>10} {mk['p99_s']!s:>10}"
              f" {s['drain_s']!s:>7} {s['load_avg_1m_end']:5.1f}  {s['sustainable']!s:>11}"
              f"  {s.get('generator_cpu_share', '-')!s:>7}  {hop_words(s.get('hops_ms'))}")
    targets = ", ".join(f"p99 < {p99:g} s at {rate}/s: {result['met_by_rate'][rate]}"
                        for rate, p99 in result["targets_p99_s"].items())
    print(f"max sustainable: {result['max_sustainable_per_s']} purchases/s; {targets}")


def main() -> None:
    from bench.environment import running_pipeline, say, unwind_on_sigterm

    unwind_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="100,1000")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--nice", type=int, default=10,
                        help="the load generators' niceness (0: the pipeline's priority)")
    parser.add_argument("--no-ramp", action="store_true",
                        help="only the given rates, no search for the maximum")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]
    with running_pipeline("live") as settings:
        result = run(settings, rates=rates, seconds=args.seconds, ramp=not args.no_ramp,
                     nice=args.nice, say=say)
    write_result("live", result)
    print_table(result)


if __name__ == "__main__":
    main()
