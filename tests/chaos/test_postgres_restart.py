"""A PostgreSQL restart under load: the connector reconnects to its slot and catches up.

The load itself reconnects (tests/chaos/load.py); transactions cut by the restart are
simply not part of the ground truth verify reads afterwards.
"""

from __future__ import annotations

from tests.chaos import faults
from tests.chaos.pipeline import ChaosPipeline
from tests.chaos.scenario import Outcome, settle, under_load


def test_postgres_restart_under_load_loses_nothing(
    chaos: ChaosPipeline, outcome: Outcome
) -> None:
    under_load(chaos, outcome, lambda: faults.restart(chaos.supervisor, "postgres"),
               at=0.5, seed=5)

    settle(chaos, outcome)
