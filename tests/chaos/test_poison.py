"""Poison in the CDC topics under load: exactly those records become dead letters, each
with its stage and reason, and the pipeline goes on (verify passes)."""

from __future__ import annotations

from tests.chaos import poison
from tests.chaos.pipeline import ChaosPipeline
from tests.chaos.scenario import Outcome, settle, under_load

STAGE_OF = {"tickets": "processors", "bands": "sink"}


def test_poison_records_become_exactly_that_many_dead_letters(
    chaos: ChaosPipeline, outcome: Outcome
) -> None:
    injected: set[poison.Origin] = set()

    def inject() -> None:
        injected.update(poison.inject(chaos.settings))
        chaos.expected_dead_letters |= injected

    under_load(chaos, outcome, inject, at=0.5, duration=20.0, seed=3)

    settle(chaos, outcome)
    assert len(injected) == sum(len(v) for v in poison.POISON.values())
    stages = chaos.dead_letters().stages()
    for origin in injected:
        table = origin[0].rsplit(".", 1)[1]
        assert stages[origin] == {STAGE_OF[table]}, (origin, stages[origin])
