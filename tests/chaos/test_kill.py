"""`kill -9` of each component at 10 %, 50 % or 90 % of a loaded run, then `up`.

Nothing lost, nothing doubled: afterwards verify passes, no delta is stored twice and
there are no dead letters beyond the poison (see tests/chaos/matrix.py for which points
run in CI and how to run all of them).
"""

from __future__ import annotations

import pytest

from tests.chaos import faults
from tests.chaos.matrix import COMPONENTS, kill_points, point_id
from tests.chaos.pipeline import ChaosPipeline
from tests.chaos.scenario import Outcome, settle, under_load

POINTS = kill_points()


@pytest.mark.parametrize(("component", "at"), POINTS,
                         ids=[point_id(c, at) for c, at in POINTS])
def test_kill9_then_up_loses_and_doubles_nothing(
    chaos: ChaosPipeline, outcome: Outcome, component: str, at: float
) -> None:
    def crash_and_restart() -> None:
        faults.kill9(chaos.supervisor, component)
        faults.start(chaos.supervisor, component)

    seed = COMPONENTS.index(component) * 100 + round(at * 100)
    under_load(chaos, outcome, crash_and_restart, at=at, seed=seed)

    settle(chaos, outcome)
