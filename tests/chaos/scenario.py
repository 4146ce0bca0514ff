"""A scenario is: live load, a fault somewhere in it, recovery, then the invariants.

Every scenario ends the same way (`settle`): whatever is down is brought back as
`boxoffice up` would, `verify` must pass (it includes the no-duplicate check
`dq_repeated_deltas`), the dead letters must be exactly the poison injected so far,
and freshness must be back under the healthy limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.chaos.load import Load
from tests.chaos.per_ticket import ticket_differences
from tests.chaos.pipeline import FRESHNESS_LIMIT_SECONDS, ChaosPipeline, explain

RATE = 30.0
"""Transactions per second: modest, so the 2-core machine still has room for recovery."""
DURATION = 30.0


@dataclass
class Outcome:
    """What one scenario did and how long each part took; written to the results file."""

    scenario: str
    passed: bool = False
    seconds: float = 0.0
    transactions: int = 0
    load_errors: int = 0
    fault_seconds: float = 0.0
    """From the fault to the end of its recovery step (e.g. `up` healthy again)."""
    verify_seconds: float = 0.0
    verify_attempts: int = 0
    dead_letters: int = 0
    freshness_seconds: float | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in asdict(self).items()}


def under_load(chaos: ChaosPipeline, outcome: Outcome, fault: Callable[[], None], *,
               at: float, duration: float = DURATION, rate: float = RATE,
               seed: int = 0) -> None:
    """Run `fault` once `at` (a fraction) of a `duration`-second load has passed."""
    load = Load(settings=chaos.settings, rate=rate, duration=duration, seed=seed).start()
    try:
        load.wait_fraction(at)
        started = time.monotonic()
        fault()
        outcome.fault_seconds = time.monotonic() - started
    finally:
        load.join()
        outcome.transactions += load.transactions
        outcome.load_errors += len(load.errors)
        if load.errors:
            outcome.notes.append(f"load reconnected {len(load.errors)}x: {load.errors[0]}")


def settle(chaos: ChaosPipeline, outcome: Outcome) -> None:
    """Recover, then assert: verify passes, no repeated delta, every ticket once with
    its content (the per-ticket oracle), dead letters = poison."""
    chaos.recover(outcome.notes)
    started = time.monotonic()
    report = chaos.verify()
    outcome.verify_seconds = time.monotonic() - started
    outcome.verify_attempts = report.attempts
    assert report.ok, f"verify failed after {outcome.scenario}: {explain(report)}"
    assert chaos.repeated_deltas() == 0, "fact_ticket_sales holds a delta twice"
    assert ticket_differences(chaos.settings) == [], "the per-ticket check failed"
    dead = chaos.dead_letters()
    outcome.dead_letters = len(dead.records)
    assert dead.origins == chaos.expected_dead_letters, (
        f"dead letters {sorted(dead.origins)} != poison {sorted(chaos.expected_dead_letters)}"
        f"; {dead.summary()}")
    outcome.freshness_seconds = chaos.wait_fresh()
    assert outcome.freshness_seconds is not None \
        and outcome.freshness_seconds < FRESHNESS_LIMIT_SECONDS, \
        f"freshness did not recover: {outcome.freshness_seconds}"
    outcome.passed = True
