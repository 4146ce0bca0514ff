"""`seed --scale 1.0`: seconds and rows/s on the configured stack (target: under 180 s).

Run with the stack's PostgreSQL up: `python bench/bench_seed.py [--scale 1.0]`. Loads into
a scratch database that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import report, scratch_source
from connectors.seed import seed
from contracts.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with scratch_source(load_settings(), "bench_seed") as settings:
        result = seed(settings, scale=args.scale, seed_value=args.seed)
    seconds = result.generate_seconds + result.load_seconds
    report("seed", [{
        "scale": args.scale, "rows": result.total_rows, "tickets": result.rows["tickets"],
        "generate_s": result.generate_seconds, "load_s": result.load_seconds,
        "total_s": seconds, "rows_per_s": result.total_rows / seconds,
        "target_s": 180.0, "ok": seconds < 180.0,
    }])


if __name__ == "__main__":
    main()
