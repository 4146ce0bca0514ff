"""The one way tests wait for something: a check polled until it holds or a deadline.

A failure says what was awaited and what the check last returned, so a timeout reads as
a finding ("timed out waiting for exact aggregates; last check returned False") rather
than as a bare assertion.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(check: Callable[[], Any], *, deadline_seconds: float, what: str,
               poll: float = 0.5, explain: Callable[[], str] | None = None) -> Any:
    """Poll `check` every `poll` seconds; return its first truthy result, or raise
    AssertionError naming `what` once `deadline_seconds` have passed, followed by what
    `explain` says then (CI keeps only the failure's text)."""
    deadline = time.monotonic() + deadline_seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(poll)
    why = f"\n{explain()}" if explain is not None else ""
    raise AssertionError(f"timed out waiting for {what}; last check returned {last!r}{why}")
