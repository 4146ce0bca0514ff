"""The scripted workload is an exact, reproducible sequence."""

from __future__ import annotations

from collections import Counter

import pytest

from connectors.workload import DEFAULT_MIX, OPERATIONS, parse_mix, plan


def test_same_seed_same_plan() -> None:
    assert plan(42, 500) == plan(42, 500)
    assert plan(42, 500) != plan(43, 500)


def test_a_longer_plan_extends_a_shorter_one() -> None:
    assert plan(5, 1000)[:100] == plan(5, 100)


def test_the_mix_is_followed() -> None:
    kinds = Counter(step.kind for step in plan(1, 5000))
    assert set(kinds) == set(OPERATIONS)
    total = sum(DEFAULT_MIX.values())
    assert kinds["purchase"] / 5000 == pytest.approx(DEFAULT_MIX["purchase"] / total, abs=0.03)


def test_parse_mix() -> None:
    mix = parse_mix("purchase=80, refund_ticket=20")
    assert mix["purchase"] == 80 and mix["refund_ticket"] == 20 and mix["rename_band"] == 0
    assert {s.kind for s in plan(3, 300, mix)} == {"purchase", "refund_ticket"}
    assert parse_mix("") == DEFAULT_MIX
    with pytest.raises(ValueError, match="unknown operation"):
        parse_mix("scalping=3")
