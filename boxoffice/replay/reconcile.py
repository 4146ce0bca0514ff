"""A replay's shadow reconciled against PostgreSQL before its swap.

The shadow's own checks compare it with what the replay read from the topic; they cannot
see records the topic no longer holds (retention deleted its head, the topic was
recreated). This compares the shadow with the source, with verify's fact checks, while
the pipeline keeps running and sales keep changing the source:

    read the source (before)   wait `settle` seconds (the pipeline's lag)
    top the shadow up to the facts topic's end
    read the shadow            read the source again (after)

Every key whose source value is the same before and after has had no change since the
first read, and the shadow holds every change committed before it: on those keys the
shadow must equal the source. Keys changing meanwhile are judged on a later round.
A lost head shows on keys nobody changes any more (past days, finished performances), so
it fails every round and the replay refuses; a round spoilt by lag passes on the next,
with a longer settle.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from boxoffice.verify.checks import BY_NAME, FACT_DERIVED_CHECKS
from boxoffice.verify.compare import CheckResult, compare_settled
from boxoffice.verify.report import sample_text
from boxoffice.verify.run import STATEMENT_TIMEOUT_SECONDS
from boxoffice.verify.source import read_truth
from boxoffice.verify.warehouse import read_warehouse
from boxoffice.verify.windows import Windows
from contracts.settings import Settings

Say = Callable[[str], None]
FIRST_SETTLE_SECONDS = 1.0
MAX_SETTLE_SECONDS = 16.0


@dataclass
class SourceReconciler:
    """What `replay_facts(reconcile=...)` calls with the shadow's name and its top-up."""

    settings: Settings
    wait_seconds: float = 120.0
    say: Say = print

    def __call__(self, shadow: str, top_up: Callable[[], None]) -> list[str]:
        """[] once a round matches; the last round's differences after wait_seconds."""
        deadline = time.monotonic() + self.wait_seconds
        settle = FIRST_SETTLE_SECONDS
        rounds = 0
        while True:
            rounds += 1
            results = self._round(shadow, top_up, settle)
            bad = [r for r in results if not r.ok]
            judged = sum(r.rows_compared for r in results)
            if not bad:
                self.say(f"the shadow matches PostgreSQL on {judged:,} keys "
                         f"(round {rounds})")
                return []
            if time.monotonic() + settle > deadline:
                return [_problem(r) for r in bad]
            self.say(f"the shadow differs from PostgreSQL on "
                     f"{sum(r.mismatches for r in bad):,} keys (round {rounds}); again")
            settle = min(settle * 2, MAX_SETTLE_SECONDS)

    def _round(self, shadow: str, top_up: Callable[[], None],
               settle: float) -> list[CheckResult]:
        windows = Windows.ending(dt.datetime.now(dt.UTC))
        timeout = STATEMENT_TIMEOUT_SECONDS
        before = read_truth(self.settings, windows=windows, timeout_seconds=timeout)
        time.sleep(settle)
        top_up()
        found = read_warehouse(self.settings, database=shadow, windows=windows,
                               timeout_seconds=timeout, reader=False)
        after = read_truth(self.settings, windows=windows, timeout_seconds=timeout)
        return [compare_settled(BY_NAME[name], before[name], after[name], found[name])
                for name in FACT_DERIVED_CHECKS]


def _problem(result: CheckResult) -> str:
    first = result.samples[0] if result.samples else None
    example = f", e.g. {sample_text(result, first)}" if first is not None else ""
    return (f"{result.name}: {result.mismatches:,} of {result.rows_compared:,} keys differ "
            f"from PostgreSQL{example}")
