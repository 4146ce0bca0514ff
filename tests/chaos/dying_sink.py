"""`python -m tests.chaos.dying_sink N [--without-plan]`: the real sink, from the same
BOXOFFICE_* settings as `python -m warehouse.sink`, that kills itself with SIGKILL at its
Nth offset commit: after that flush's batches are in ClickHouse, before Kafka knows. The
one instant where only the batch plan keeps a successor from storing them again."""

from __future__ import annotations

import argparse
import os
import signal

from contracts.settings import load_settings
from warehouse.sink.app import run_sink


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("commits", type=int, help="die at this offset commit (1 = first)")
    parser.add_argument("--without-plan", action="store_true",
                        help="commit no batch ends (the negative control)")
    args = parser.parse_args()
    seen = {"offset commit": 0}

    def die_at(step: str) -> None:
        if step == "offset commit":
            seen[step] += 1
            if seen[step] == args.commits:
                os.kill(os.getpid(), signal.SIGKILL)

    run_sink(load_settings(), step_hook=die_at, plan=not args.without_plan)


if __name__ == "__main__":
    main()
