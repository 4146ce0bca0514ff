"""Which fault points run: one seeded kill point per component in CI, all of them in full.

BOXOFFICE_CHAOS_FULL=1 runs every component at 10 %, 50 % and 90 % of its run. Otherwise
each component gets one of the three, drawn from a seed that changes every day (so CI
covers the whole matrix over time) and can be pinned with BOXOFFICE_CHAOS_SEED to
reproduce a run; the test id names the point.
"""

from __future__ import annotations

import datetime as dt
import os
import random

COMPONENTS = ("connect", "kafka", "processors", "sink", "clickhouse", "superset")
KILL_POINTS = (0.1, 0.5, 0.9)
FULL_VARIABLE = "BOXOFFICE_CHAOS_FULL"
SEED_VARIABLE = "BOXOFFICE_CHAOS_SEED"


def full_matrix() -> bool:
    return os.environ.get(FULL_VARIABLE, "") not in ("", "0", "false", "no")


def seed() -> int:
    pinned = os.environ.get(SEED_VARIABLE)
    return int(pinned) if pinned else dt.datetime.now(dt.UTC).date().toordinal()


def kill_points() -> list[tuple[str, float]]:
    if full_matrix():
        return [(c, at) for c in COMPONENTS for at in KILL_POINTS]
    base = seed()
    return [(c, random.Random(f"{base}:{c}").choice(KILL_POINTS)) for c in COMPONENTS]


def point_id(component: str, at: float) -> str:
    return f"{component}-at-{round(at * 100)}pct"
