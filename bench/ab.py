"""The same benchmark on two commits, alternating, in one run: is a refactor as fast?

    .venv/bin/python -m bench.ab --base 853b84d --bench processors --pairs 5
    .venv/bin/python -m bench.ab --base 853b84d --bench sink --pairs 3

The base commit is checked out into a temporary git worktree; each pair runs the
benchmark there and in this tree (same tools, same machine, minutes apart; base first
in odd pairs, head first in even ones, so whatever drifts during a run, such as the
load or the page cache, does not always favour the same side), so the ratio head/base
of the medians is measured under the same load, which figures from
different days on this shared machine never are. The benchmark's own result file in
this tree is put back afterwards: this run's figures go to bench/results/ab_<bench>.json
with every run, the load average next to it, the medians, the spread and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.record import write_result
from contracts.settings import REPO_ROOT, load_settings


@dataclass(frozen=True)
class Bench:
    module: str
    arguments: tuple[str, ...]
    result_file: str
    metrics: tuple[str, ...]
    """Dotted paths into the result JSON, each a rate (higher is better)."""


BENCHES = {
    "processors": Bench("bench.bench_processors", (), "processors.json",
                        ("pure.events_per_s", "worker.events_per_s")),
    "sink": Bench("bench.bench_sink", ("--trials", "1"), "bench_sink.json",
                  ("insert_path_rows_per_s", "end_to_end_rows_per_s")),
}


def metric(result: dict[str, Any], path: str) -> float:
    value: Any = result
    for part in path.split("."):
        value = value[part]
    return float(value)


def run_once(tree: Path, bench: Bench, env: dict[str, str]) -> dict[str, Any]:
    import json

    done = subprocess.run([sys.executable, "-m", bench.module, *bench.arguments], cwd=tree,
                          env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{bench.module} failed in {tree}:\n{done.stdout[-2000:]}"
                         f"{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads((tree / "bench" / "results" / bench.result_file)
                                        .read_text())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--bench", choices=sorted(BENCHES), required=True)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    bench = BENCHES[args.bench]
    console = Console()
    own_result = REPO_ROOT / "bench" / "results" / bench.result_file
    kept = own_result.read_bytes() if own_result.exists() else None
    tools = load_settings().tools_dir or REPO_ROOT / ".boxoffice" / "tools"
    env = {**os.environ, "BOXOFFICE_TOOLS_DIR": str(tools.resolve())}
    base_tree = Path(tempfile.mkdtemp(prefix="boxoffice-ab-")) / "base"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base_tree), args.base],
                   cwd=REPO_ROOT, check=True)
    runs: list[dict[str, Any]] = []
    try:
        for pair in range(1, args.pairs + 1):
            order = (("base", base_tree), ("head", REPO_ROOT))
            for side, tree in order if pair % 2 else order[::-1]:
                began = time.monotonic()
                result = run_once(tree, bench, env)
                runs.append({"pair": pair, "side": side,
                             "load_1m_after": round(os.getloadavg()[0], 2),
                             "seconds": round(time.monotonic() - began, 1),
                             **{m: metric(result, m) for m in bench.metrics}})
                console.print(f"pair {pair} {side}: " + ", ".join(
                    f"{m} {runs[-1][m]:,.0f}" for m in bench.metrics))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)],
                       cwd=REPO_ROOT, check=False)
        if kept is not None:
            own_result.write_bytes(kept)
    summary = summarise(runs, bench.metrics)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                          capture_output=True, text=True).stdout.strip()
    write_result(f"ab_{args.bench}", {"bench": args.bench, "base": args.base, "head": head,
                                      "pairs": args.pairs, "runs": runs, "summary": summary})
    table = Table(title=f"{args.bench}: head {head} against base {args.base}, "
                        f"{args.pairs} alternating pairs")
    for column in ("metric", "base median", "head median", "head/base", "base spread",
                   "head spread"):
        table.add_column(column)
    for name, row in summary.items():
        table.add_row(name, f"{row['base_median']:,.0f}", f"{row['head_median']:,.0f}",
                      f"{row['ratio']:.3f}", row["base_spread"], row["head_spread"])
    console.print(table)


def summarise(runs: list[dict[str, Any]], metrics: tuple[str, ...]) -> dict[str, Any]:
    """Per metric: both medians, the ratio head/base and each side's min-max spread."""
    out: dict[str, Any] = {}
    for name in metrics:
        sides = {side: [r[name] for r in runs if r["side"] == side] for side in ("base", "head")}
        base, head = statistics.median(sides["base"]), statistics.median(sides["head"])
        out[name] = {"base_median": base, "head_median": head, "ratio": head / base,
                     **{f"{side}_spread": f"{min(v):,.0f}-{max(v):,.0f}"
                        for side, v in sides.items()}}
    return out


if __name__ == "__main__":
    main()
