"""The chaos suite's stall scenario, again and again on one pipeline: how often a stall
of the sink or of the processors (SIGSTOP past the group's session timeout, under live
load) ends exact. A loop for evidence, not a CI test: 20 runs of each take about an hour.

    .venv/bin/python -m bench.stall_loop --runs 20 --components sink,processors

Each run is the chaos scenario `test_stall_then_continue_loses_and_doubles_nothing`
unchanged (verify against PostgreSQL, no repeated delta, dead letters = poison, fresh
again); the pytest session's results file gives each run's outcome and timings. Writes
bench/results/stall_loop.json (stall_loop_<components>.json for another selection) and
prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.machine import load_average
from bench.record import write_result
from contracts.settings import REPO_ROOT
from tests.chaos.conftest import RESULTS_FILE


def run_loop(runs: int, components: list[str]) -> dict[str, Any]:
    selected = " or ".join(f"[{c}-run" for c in components)
    env = dict(os.environ, BOXOFFICE_STALL_REPEAT=str(runs))
    started, load_before = time.monotonic(), load_average()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "chaos", "-q",
         "tests/chaos/test_stall.py", "-k", selected], cwd=REPO_ROOT, env=env, check=False)
    scenarios = json.loads(RESULTS_FILE.read_text())["scenarios"]
    by_component: dict[str, Any] = {}
    for component in components:
        mine = [s for s in scenarios if f"[{component}-run" in s["scenario"]]
        seconds = [s["seconds"] for s in mine]
        by_component[component] = {
            "runs": len(mine), "passed": sum(s["passed"] for s in mine),
            "failed": [s["scenario"] for s in mine if not s["passed"]],
            "first_failure_at_run": next((i + 1 for i, s in enumerate(mine)
                                          if not s["passed"]), None),
            "seconds_median": round(statistics.median(seconds), 1) if seconds else None,
            "seconds_min": min(seconds, default=None), "seconds_max": max(seconds, default=None),
            "verify_attempts_max": max((s["verify_attempts"] for s in mine), default=None),
        }
    return {"runs_asked": runs, "pytest_exit": done.returncode,
            "wall_seconds": round(time.monotonic() - started), "load_before": load_before,
            "load_after": load_average(), "components": by_component}


DEFAULT_COMPONENTS = "sink,processors"


def results_name(components: str) -> str:
    """stall_loop.json for the default pair; another selection gets a file of its own
    (stall_loop_kafka.json), so one loop's figures never overwrite another's."""
    if components == DEFAULT_COMPONENTS:
        return "stall_loop"
    return "stall_loop_" + "_".join(components.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--components", default=DEFAULT_COMPONENTS)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs takes a whole number of at least 1")
    result = run_loop(args.runs, args.components.split(","))
    path = write_result(results_name(args.components), result)
    print(f"\nstall loop ({result['wall_seconds']} s, load {result['load_before']} -> "
          f"{result['load_after']}; {path}):")
    print(f"{'component':<12} {'passed':>9} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, c in result["components"].items():
        print(f"{name:<12} {c['passed']:>4}/{c['runs']:<4} {c['seconds_median']!s:>9} "
              f"{c['seconds_min']!s:>7} {c['seconds_max']!s:>7}")
    sys.exit(0 if all(c["passed"] == c["runs"] == args.runs
                      for c in result["components"].values()) else 1)


if __name__ == "__main__":
    main()
