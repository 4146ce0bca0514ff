"""A replay killed at any step between stopping the sink and starting it again ends
exact: the sink's offsets never move, so whichever tables are live (the old ones before
the swap, the rebuilt ones after) hold exactly what the offsets say, and the sink,
started again as `boxoffice up` would, continues without a lost or doubled fact.

The sink is behind when the replay starts (stopped, with facts in the topic it has not
stored): the case where a replay that rebuilt to the topic's end had to move the
sink's offsets, and lost those facts when it died between moving them and the swap.

The negative control moves the sink's offsets past facts the live tables never received
(what a replay that commits offsets before its swap did when it crashed in between) and
shows the check turns red."""

from __future__ import annotations

import multiprocessing
import signal

import pytest

from boxoffice.replay.control import ProcessControl
from contracts.settings import Settings
from tests.integration.replay.crashing_replay import replay_until
from tests.integration.warehouse.sink_scenario import Scenario
from tests.support.waiting import wait_until
from warehouse.replay.offsets import commit_offsets, committed_offsets, end_offsets

STEPS = ["bulk:", "sink stopped at", "top-up:", "shadow checks passed", "swapped"]
"""The replay's reports, in order: it is killed right after each."""


def crash_replay_at(settings: Settings, step: str) -> None:
    child = multiprocessing.get_context("spawn").Process(
        target=replay_until, args=(settings, step))
    child.start()
    child.join(300)
    assert child.exitcode == -signal.SIGKILL, (
        f"the replay was to die at {step!r}, it ended with {child.exitcode}")


def sink_offsets(scenario: Scenario) -> dict[int, int]:
    settings = scenario.settings
    return committed_offsets(settings, settings.sink_group, settings.facts_topic)


def stored_history(scenario: Scenario, steps: int) -> None:
    """History produced, stored and its offsets committed by the sink."""
    scenario.produce_facts(steps, invalid_every=400)
    ends = end_offsets(scenario.settings, scenario.settings.facts_topic)
    wait_until(lambda: sink_offsets(scenario) == ends, deadline_seconds=120,
               what="the sink to store the history and commit its offsets")


@pytest.mark.parametrize("step", STEPS)
def test_a_replay_killed_at_any_step_ends_exact(
        running: tuple[Scenario, ProcessControl], step: str) -> None:
    scenario, sink = running
    stored_history(scenario, 2500)
    sink.stop()
    scenario.produce_facts(300)  # in the topic, not yet stored: the sink is behind
    committed_before = sink_offsets(scenario)

    crash_replay_at(scenario.settings, step)

    assert sink_offsets(scenario) == committed_before
    scenario.produce_facts(300)  # the load goes on while the operator finds out
    sink.start()  # what `boxoffice up` does for a sink left stopped
    wait_until(scenario.exact, deadline_seconds=120,
               what=f"the warehouse exact after a replay killed at {step!r}")


def test_negative_control_offsets_moved_without_the_swap_lose_facts(
        running: tuple[Scenario, ProcessControl]) -> None:
    scenario, sink = running
    settings = scenario.settings
    stored_history(scenario, 1500)
    sink.stop()
    scenario.produce_facts(300)  # facts the live tables have not received
    ends = end_offsets(settings, settings.facts_topic)
    commit_offsets(settings, settings.sink_group, settings.facts_topic, ends)
    sink.start()
    scenario.produce_facts(100)
    after = end_offsets(settings, settings.facts_topic)
    wait_until(lambda: sink_offsets(scenario) == after, deadline_seconds=120,
               what="the sink to reach the topic's end")
    assert scenario.fact_rows() < scenario.produced
    assert not scenario.exact()
