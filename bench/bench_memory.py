"""Peak memory per process of the stack during a load.

Two figures per supervised component (Postgres, Kafka, Connect, ClickHouse, Superset,
processors, sink), each including every descendant process (Postgres backends, gunicorn
workers, the JVM's helpers):

* ``peak_rss_mib``: the largest *simultaneous* resident memory of the component's
  processes, sampled every second (VmRSS summed over the process tree);
* ``sum_vmhwm_mib``: the sum of each process's own high-water mark (VmHWM), an upper
  bound, since those peaks need not coincide; a process that exited between samples is
  counted with the last high-water mark seen.

Standalone it brings the pipeline up, seeds --scale 0.1 and sells at 200 purchases/s
for 60 s; `bench.run_all` instead samples during the history and live benchmarks.

    .venv/bin/python -m bench.bench_memory
"""

from __future__ import annotations

import argparse
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.machine import load_average
from bench.record import write_result
from boxoffice import pipeline
from contracts.settings import Settings

SAMPLE_SECONDS = 1.0
MIB = 1024 * 1024


def _status_kib(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return 0  # kernel threads have no Vm* lines


def children() -> dict[int, list[int]]:
    """ppid -> pids, from one pass over /proc: what `process_tree` walks. Public so the
    harness's unit tests check it against this very process."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(root: int, tree: dict[int, list[int]]) -> list[int]:
    """`root` and all its descendants."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


def supervised_pids(settings: Settings) -> dict[str, int]:
    """Component name -> pid of every running process the supervisor started."""
    status = pipeline.supervisor(settings, with_sales=True).status()
    return {s.name: s.pid for s in status if s.pid is not None}


@dataclass
class MemorySampler:
    """Samples the stack's memory in a background thread between start() and stop()."""

    settings: Settings
    peak_rss_kib: dict[str, int] = field(default_factory=dict)
    hwm_kib: dict[str, dict[int, int]] = field(default_factory=dict)
    processes: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        tree = children()
        for name, root in supervised_pids(self.settings).items():
            pids = process_tree(root, tree)
            rss = sum(_status_kib(pid, "VmRSS") or 0 for pid in pids)
            self.peak_rss_kib[name] = max(self.peak_rss_kib.get(name, 0), rss)
            marks = self.hwm_kib.setdefault(name, {})
            for pid in pids:
                hwm = _status_kib(pid, "VmHWM")
                if hwm is not None:
                    marks[pid] = max(marks.get(pid, 0), hwm)
            self.processes[name] = max(self.processes.get(name, 0), len(pids))

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.sample()

    def start(self) -> MemorySampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        """Stop sampling (one last sample first) and return the figures."""
        self.sample()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        return self.figures()

    def figures(self) -> dict[str, Any]:
        components = {
            name: {"peak_rss_mib": round(self.peak_rss_kib[name] / 1024, 1),
                   "sum_vmhwm_mib": round(sum(self.hwm_kib.get(name, {}).values()) / 1024, 1),
                   "processes_max": self.processes.get(name, 0)}
            for name in sorted(self.peak_rss_kib)
        }
        total = sum(c["peak_rss_mib"] for c in components.values())
        return {"components": components, "total_peak_rss_mib": round(total, 1),
                "load_avg_1m_end": load_average(),
                "note": "peak_rss = largest simultaneous RSS of the component's process "
                        "tree (1 s samples); sum_vmhwm = sum of per-process VmHWM "
                        "(upper bound); total = sum of per-component peaks"}


def run(settings: Settings, *, scale: float, rate: float, seconds: float) -> dict[str, Any]:
    """Seed and sell while sampling; the standalone load of this benchmark."""
    from connectors.seed import seed
    from connectors.traffic import sell

    sampler = MemorySampler(settings=settings).start()
    load_start = load_average()
    seed(settings, scale=scale, seed_value=0)
    sell(settings, rate=rate, duration=seconds, mix={"purchase": 1.0}, seed=1)
    figures = sampler.stop()
    return {"load": f"seed --scale {scale:g}, then {rate:g} purchases/s for {seconds:g} s",
            "load_avg_1m_start": load_start, **figures}


def main() -> None:
    from bench.environment import running_pipeline, unwind_on_sigterm

    unwind_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with running_pipeline("memory") as settings:
        result = run(settings, scale=args.scale, rate=args.rate, seconds=args.seconds)
    print_table(result)
    write_result("memory", {"phases": {"standalone": result}})


def print_table(result: dict[str, Any]) -> None:
    print(f"{'component':12} {'peak RSS MiB':>13} {'sum VmHWM MiB':>14} {'procs':>6}")
    for name, row in result["components"].items():
        print(f"{name:12} {row['peak_rss_mib']:13.1f} {row['sum_vmhwm_mib']:14.1f} "
              f"{row['processes_max']:6d}")
    print(f"total peak RSS: {result['total_peak_rss_mib']:.1f} MiB")


if __name__ == "__main__":
    main()
