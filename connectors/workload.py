"""The live traffic's plan: which kind of transaction comes next, as pure data.

A plan depends only on (seed, steps, mix), so tests can replay the exact same sequence;
each step carries its own seed, from which the executor (`connectors.traffic`) draws the
rows it touches against the database's current state.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

OPERATIONS: tuple[str, ...] = (
    "purchase",          # a new purchase of 1-8 tickets for an upcoming performance
    "refund_ticket",     # one ticket deleted
    "refund_purchase",   # a whole purchase and its tickets deleted
    "price_correction",  # a ticket's price updated
    "move_performance",  # a performance moved to another venue and/or time
    "new_performance",   # a new band (sometimes) and a new upcoming performance
    "rename_band",       # a band's name updated
)

DEFAULT_MIX: dict[str, float] = {
    "purchase": 70, "refund_ticket": 8, "refund_purchase": 4, "price_correction": 10,
    "move_performance": 3, "new_performance": 3, "rename_band": 2,
}


@dataclass(frozen=True)
class Step:
    kind: str
    seed: int


def parse_mix(text: str | None) -> dict[str, float]:
    """`purchase=80,refund_ticket=20` -> weights; unnamed operations get weight 0.

    None or "" gives the default mix.
    """
    if not text:
        return dict(DEFAULT_MIX)
    mix = dict.fromkeys(OPERATIONS, 0.0)
    for part in text.split(","):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in mix:
            raise ValueError(f"unknown operation {name!r} in mix; known: {', '.join(OPERATIONS)}")
        mix[name] = float(weight)
    if sum(mix.values()) <= 0:
        raise ValueError("the mix needs at least one positive weight")
    return mix


class Planner:
    """An endless, seeded stream of steps following the mix."""

    def __init__(self, *, seed: int, mix: Mapping[str, float] | None = None) -> None:
        weights = dict(mix or DEFAULT_MIX)
        self._kinds = [k for k in OPERATIONS if weights.get(k, 0) > 0]
        self._weights = [weights[k] for k in self._kinds]
        self._rng = random.Random(seed)

    def next(self) -> Step:
        kind = self._rng.choices(self._kinds, self._weights)[0]
        return Step(kind=kind, seed=self._rng.getrandbits(32))


def plan(seed: int, steps: int, mix: Mapping[str, float] | None = None) -> list[Step]:
    """The first `steps` steps for `seed`: the same list every time."""
    planner = Planner(seed=seed, mix=mix)
    return [planner.next() for _ in range(steps)]
