"""`make bench`: every benchmark, results as JSON under bench/results/, and the table in
docs/performance.md with the machine described.

    .venv/bin/python -m bench.run_all                      # everything (about an hour)
    .venv/bin/python -m bench.run_all --only history,live  # a subset
    .venv/bin/python -m bench.run_all --report-only        # re-render the docs page

history and live run here, each on its own freshly started pipeline, with the memory
sampler watching every process of the stack (so `memory` comes from those loads); the
other benchmarks run as their own scripts, unchanged. A benchmark that fails is recorded
as failed and the others still run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.environment import running_pipeline, say, unwind_on_sigterm
from bench.machine import describe, load_average
from bench.record import read_result, write_result
from contracts.settings import REPO_ROOT, Settings
from tests.providers import PORT_FIELDS, test_settings

PIPELINE = ("history", "live", "memory")
SCRIPTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name -> (argv after the interpreter, services it needs from run_all)
    "seed": (("-m", "bench.bench_seed", "--scale", "1.0"), ("postgres",)),
    "source_overhead": (("-m", "bench.bench_source_overhead"), ("postgres", "kafka", "connect")),
    "processors": (("-m", "bench.bench_processors"), ()),
    "sink": (("-m", "bench.bench_sink", "--baseline"), ()),
    "views": (("-m", "bench.bench_views", "--scale", "1", "--runs", "20"), ()),
    "views10": (("-m", "bench.bench_views", "--scale", "10", "--runs", "10"), ()),
    "replay": (("-m", "bench.bench_replay"), ()),
}
ALL = (*PIPELINE, *SCRIPTS)


def _environment(settings: Settings) -> dict[str, str]:
    """BOXOFFICE_ variables pointing a script's load_settings() at `settings`."""
    env = dict(os.environ)
    env["BOXOFFICE_STATE_DIR"] = str(settings.state_dir)
    env["BOXOFFICE_TOOLS_DIR"] = str(settings.tools)
    for name in PORT_FIELDS:
        env[f"BOXOFFICE_{name.upper()}"] = str(getattr(settings, name))
    return env


def run_script(name: str) -> None:
    """One existing benchmark script, with the services it expects already up."""
    from tests.native import NativeProvider

    argv, services = SCRIPTS[name]
    command = [sys.executable, *argv]
    if not services:
        subprocess.run(command, cwd=REPO_ROOT, check=True)
        return
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as state:
        settings = test_settings(Path(state))
        provider = NativeProvider(settings)
        try:
            for service in services:
                provider.ensure(service)
            subprocess.run(command, cwd=REPO_ROOT, check=True, env=_environment(settings))
        finally:
            provider.close()


def run_pipeline_benchmarks(selected: list[str], args: argparse.Namespace) -> None:
    """history and live on their own pipelines, memory sampled during both."""
    from bench import bench_memory

    phases: dict[str, Any] = {}
    try:
        if "live" in selected or ("memory" in selected and "history" not in selected):
            _live_phase(selected, args, phases)
        if "history" in selected:
            _history_phase(args, phases)
    finally:  # the memory of a phase that ran is kept even if a later one failed
        if "memory" in selected and phases:
            earlier = (read_result("memory") or {}).get("phases", {})
            write_result("memory", {"phases": {**earlier, **phases}})
            for name, phase in phases.items():
                print(f"memory during {name}:")
                bench_memory.print_table(phase)


def _live_phase(selected: list[str], args: argparse.Namespace, phases: dict[str, Any]) -> None:
    from bench import bench_live, bench_memory

    with running_pipeline("live") as settings:
        sampler = bench_memory.MemorySampler(settings=settings).start()
        start = load_average()
        load = "interrupted"
        try:
            if "live" in selected:
                rates = [float(r) for r in args.live_rates.split(",")]
                live = bench_live.run(settings, rates=rates, seconds=args.live_seconds,
                                      ramp=True, say=say)
                write_result("live", live)
                bench_live.print_table(live)
                load = "bench_live's steps (small history, then purchases at every rate)"
            else:
                bench_memory.run(settings, scale=0.1, rate=200, seconds=60)
                load = "seed --scale 0.1, then 200 purchases/s for 60 s"
        finally:
            phases["live"] = {"load": load,
                              "load_avg_1m_start": start, **sampler.stop()}


def _history_phase(args: argparse.Namespace, phases: dict[str, Any]) -> None:
    from bench import bench_history, bench_memory

    with running_pipeline("history",
                          postgres_max_slot_wal_keep_size=bench_history.WAL_KEEP) as settings:
        sampler = bench_memory.MemorySampler(settings=settings).start()
        start = load_average()
        try:
            history = bench_history.run(settings, scale=args.history_scale,
                                        deadline_seconds=args.history_deadline)
            write_result("history", history)
            say(bench_history.summary(history))
        finally:
            phases["history"] = {"load": f"seed --scale {args.history_scale:g} captured "
                                 "end to end", "load_avg_1m_start": start, **sampler.stop()}


def _guard(name: str, action: Callable[[], None], outcomes: dict[str, str]) -> None:
    began = time.monotonic()
    say(f"bench {name}: start (load {load_average()})")
    try:
        action()
        outcomes[name] = "ok"
    except (Exception, subprocess.CalledProcessError) as exc:  # the next one still runs
        traceback.print_exc()
        outcomes[name] = f"failed: {type(exc).__name__}: {str(exc)[:200]}"
    say(f"bench {name}: {outcomes[name]} after {time.monotonic() - began:.0f} s")


def main() -> None:
    unwind_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--history-scale", type=float, default=1.0)
    parser.add_argument("--history-deadline", type=float, default=1800.0)
    parser.add_argument("--live-rates", default="200,1000")
    parser.add_argument("--live-seconds", type=float, default=40.0)
    args = parser.parse_args()
    selected = [n.strip() for n in args.only.split(",") if n.strip()] or list(ALL)
    unknown = sorted(set(selected) - set(ALL))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(ALL)}")
    outcomes: dict[str, str] = {}
    if not args.report_only:
        with tempfile.TemporaryDirectory() as tmp:
            machine = describe(test_settings(Path(tmp)))
        machine["load_avg_1m_start"] = load_average()
        pipeline_part = [n for n in selected if n in PIPELINE]
        if pipeline_part:
            _guard("+".join(pipeline_part),
                   lambda: run_pipeline_benchmarks(pipeline_part, args), outcomes)
        for name in (n for n in selected if n in SCRIPTS):
            _guard(name, lambda name=name: run_script(name), outcomes)  # type: ignore[misc]
        machine["load_avg_1m_end"] = load_average()
        previous = read_result("machine") or {}
        latest = {name: outcome for key, outcome in outcomes.items()
                  for name in key.split("+")}  # history+live+memory ran as one
        runs = {**previous.get("runs", {}), **latest}
        write_result("machine", {**machine, "selected": selected, "runs": runs})
    from bench.report import write_performance_page

    page = write_performance_page()
    say(f"wrote {page.relative_to(REPO_ROOT)}")
    if any(o != "ok" for o in outcomes.values()):
        raise SystemExit(f"some benchmarks failed: {outcomes}")


if __name__ == "__main__":
    main()
