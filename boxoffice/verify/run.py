"""Run every check once, or again and again until all match or a deadline passes."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from boxoffice.verify.checks import CHECKS
from boxoffice.verify.compare import CheckResult, compare, failed
from boxoffice.verify.errors import VerifyError
from boxoffice.verify.last import record
from boxoffice.verify.source import read_truth
from boxoffice.verify.warehouse import read_warehouse
from boxoffice.verify.windows import LIVE_WINDOW_MINUTES, Windows
from contracts.settings import Settings

STATEMENT_TIMEOUT_SECONDS = 120.0
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class VerifyReport:
    results: list[CheckResult]
    window_start: dt.datetime
    seconds: float
    attempts: int = 1
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(r.ok for r in self.results)

    def result(self, name: str) -> CheckResult:
        return next(r for r in self.results if r.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "attempts": self.attempts, "seconds": round(self.seconds, 3),
                "live_window_start": self.window_start.isoformat(),
                "errors": self.errors, "checks": [r.as_dict() for r in self.results]}


def verify(settings: Settings, *, database: str | None = None,
           statement_timeout_seconds: float = STATEMENT_TIMEOUT_SECONDS,
           live_window_minutes: int = LIVE_WINDOW_MINUTES) -> VerifyReport:
    """One pass: the source snapshot first, then ClickHouse, then the comparison."""
    started = time.monotonic()
    windows = Windows.ending(dt.datetime.now(dt.UTC), live_window_minutes)
    errors: list[str] = []
    truth = found = None
    try:
        truth = read_truth(settings, windows=windows,
                           timeout_seconds=statement_timeout_seconds)
    except VerifyError as exc:
        errors.append(str(exc))
    try:
        found = read_warehouse(settings, database=database, windows=windows,
                               timeout_seconds=statement_timeout_seconds)
    except VerifyError as exc:
        errors.append(str(exc))
    results = []
    for spec in CHECKS:
        if truth is None or found is None:
            results.append(failed(spec, "not compared: " + ("Postgres" if truth is None
                                                            else "ClickHouse")
                                  + " could not be read"))
        else:
            results.append(compare(spec, truth[spec.name], found[spec.name]))
    report = VerifyReport(results=results, window_start=windows.live,
                          seconds=time.monotonic() - started, errors=errors)
    if database is None:  # the pipeline's own warehouse, not a replay's shadow copy
        record(settings, report)
    return report


def verify_until(settings: Settings, *, wait_seconds: float,
                 poll_seconds: float = POLL_SECONDS,
                 on_attempt: Callable[[VerifyReport], None] | None = None,
                 **kwargs: Any) -> VerifyReport:
    """verify() until everything matches or `wait_seconds` have passed; the last report.

    After load stops the pipeline catches up within seconds; this is the way to wait for
    it without guessing a sleep.
    """
    deadline = time.monotonic() + wait_seconds
    attempts = 0
    while True:
        attempts += 1
        report = verify(settings, **kwargs)
        if on_attempt is not None:
            on_attempt(report)
        if report.ok or time.monotonic() + poll_seconds > deadline:
            return VerifyReport(results=report.results, window_start=report.window_start,
                                seconds=report.seconds, attempts=attempts,
                                errors=report.errors)
        time.sleep(poll_seconds)
