"""Poison in every CDC topic and in the facts topic under load: exactly those records
become dead letters, each with its stage and reason, and the pipeline goes on (verify
passes). Timestamps before 1970 and past what ClickHouse stores are among them."""

from __future__ import annotations

import contextlib

from tests.chaos import poison
from tests.chaos.pipeline import ChaosPipeline
from tests.chaos.scenario import Outcome, settle, under_load
from tests.support.waiting import wait_until

STAGES_OF = {"tickets": {"processors"}, "bands": {"sink"},
             "performances": {"processors", "sink"}, "purchases": {"processors"},
             "venues": {"sink"}, "people": {"sink"}}
"""The stages that read each CDC table; the facts topic is the sink's alone."""


def test_poison_records_become_exactly_that_many_dead_letters(
    chaos: ChaosPipeline, outcome: Outcome
) -> None:
    injected: set[poison.Origin] = set()

    def inject() -> None:
        injected.update(poison.inject(chaos.settings))
        chaos.expected_dead_letters |= injected

    under_load(chaos, outcome, inject, at=0.5, duration=20.0, seed=3)

    settle(chaos, outcome)
    assert len(injected) == sum(len(v) for v in poison.POISON.values()) + len(poison.FACTS)
    expected = {origin: {"sink"} if origin[0] == chaos.settings.facts_topic
                else STAGES_OF[origin[0].rsplit(".", 1)[1]] for origin in injected}
    readings: list[dict[poison.Origin, set[str]]] = []

    def every_stage_reported() -> bool:  # a record both stages read: two dead letters
        readings.append(chaos.dead_letters().stages())
        return all(readings[-1].get(origin) == want for origin, want in expected.items())

    with contextlib.suppress(AssertionError):  # the deadline passed: the last reading
        wait_until(every_stage_reported, deadline_seconds=60.0, poll=1.0,
                   what="each poison record's dead letter from every stage that reads it")
    wrong = {o: (readings[-1].get(o), want) for o, want in expected.items()
             if readings[-1].get(o) != want}
    assert not wrong, f"dead letters' stages (got, wanted): {wrong}"
