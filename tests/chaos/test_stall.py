"""SIGSTOP ... SIGCONT of each component under load: a stall, not a crash.

The stall outlasts Kafka's 10 s session timeout, so a stalled consumer (processors,
sink) is expelled from its group while frozen and comes back as a zombie that must not
write what its successor already wrote.
"""

from __future__ import annotations

import os

import pytest

from tests.chaos import faults
from tests.chaos.matrix import COMPONENTS
from tests.chaos.pipeline import ChaosPipeline
from tests.chaos.scenario import Outcome, settle, under_load

STALL_SECONDS = 12.0
STALL_AT = 0.3
REPEAT = int(os.environ.get("BOXOFFICE_STALL_REPEAT", "1"))
"""Runs of each stall on the one pipeline (`python -m bench.stall_loop` sets it)."""
RUNS = [pytest.param(c, id=c if REPEAT == 1 else f"{c}-run{n + 1}")
        for n in range(REPEAT) for c in COMPONENTS]


@pytest.mark.parametrize("component", RUNS)
def test_stall_then_continue_loses_and_doubles_nothing(
    chaos: ChaosPipeline, outcome: Outcome, component: str
) -> None:
    under_load(chaos, outcome, lambda: faults.stall(chaos.supervisor, component,
                                                    STALL_SECONDS),
               at=STALL_AT, seed=7)

    settle(chaos, outcome)
