"""One whole pipeline for the chaos suite, isolated from every other test's data.

The session's services (PostgreSQL, Kafka, Connect, ClickHouse, Superset) are shared, so
the suite gets its own source database, slot, publication, connector, topic prefix,
facts / heartbeat / dead-letter topics, processors' app id, sink group and ClickHouse
database. Its processors and sink are the session's only ones while it runs (the
pipeline's pid files are per state directory) and are stopped when the package ends.

`settle()` is the end of every scenario: bring back whatever is down (as `boxoffice up`
would, noting anything that died besides the fault's target), wait for `verify`, and
check the dead letters and duplicates.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from boxoffice.stack.components import pipeline_components
from boxoffice.status import freshness_seconds
from boxoffice.verify import VerifyReport, verify_until
from connectors import manage
from connectors.errors import ConnectorError
from tests.chaos.deadletters import DeadLetters, Origin, read_dead_letters
from tests.support.isolated_pipeline import IsolatedPipeline
from tests.support.waiting import wait_until
from warehouse.executor import connect as clickhouse

VERIFY_DEADLINE_SECONDS = 240.0
FRESHNESS_LIMIT_SECONDS = 30.0
"""What `boxoffice status` calls healthy."""
DEAD_LETTER_DEADLINE_SECONDS = 60.0
CONNECTOR_DEADLINE_SECONDS = 120.0


def say(line: str) -> None:
    """The suite's progress line, tagged so it reads apart from pytest's output."""
    print(f"[chaos] {line}")


@dataclass
class ChaosPipeline(IsolatedPipeline):
    expected_dead_letters: set[Origin] = field(default_factory=set)
    """Origins of the poison records injected so far: the only dead letters allowed."""

    # --- recovery --------------------------------------------------------------------
    def down_components(self) -> list[str]:
        return [st.name for st in self.supervisor.status() if not st.running]

    def recover(self, notes: list[str]) -> None:
        """`boxoffice up` for whatever is down, then the connector RUNNING again.

        Anything restarted here besides the fault's own target, and any manual step the
        connector needed, is written to `notes`: the data invariants may still hold, but
        an operator had to act, and the report says so.
        """
        down = self.down_components()
        if down:
            notes.append(f"down after the fault, restarted by `up`: {', '.join(down)}")
            self.supervisor.up(progress=say)
        try:
            manage.wait_running(self.settings, deadline_seconds=CONNECTOR_DEADLINE_SECONDS,
                                progress=say)
        except ConnectorError as exc:
            notes.append("connector needed `boxoffice connector restart`: "
                         + " ".join(str(exc).split())[:300])
            manage.restart(self.settings, deadline_seconds=CONNECTOR_DEADLINE_SECONDS,
                           progress=say)

    def reset_if_broken(self, notes: list[str]) -> None:
        """Before a scenario: if the last one left the pipeline inconsistent (e.g. a worker
        alive but stuck), restart the processors and sink so failures do not cascade."""
        self.recover(notes)
        if verify_until(self.settings, wait_seconds=10.0).ok:
            return
        notes.append("the previous scenario left verify failing: processors and sink "
                     "restarted before this one")
        for component in pipeline_components(self.settings):
            self.supervisor.stop(component)
        self.supervisor.up(progress=say)
        report = self.verify()
        assert report.ok, f"the pipeline does not reconcile even after a restart of the " \
                          f"processors and sink: {explain(report)}"

    # --- the end-of-scenario checks ---------------------------------------------------
    def verify(self) -> VerifyReport:
        return verify_until(self.settings, wait_seconds=VERIFY_DEADLINE_SECONDS)

    def repeated_deltas(self) -> int:
        client = clickhouse(self.settings, reader=True)
        try:
            result = client.query(
                f"SELECT count() FROM {self.settings.clickhouse_database}.dq_repeated_deltas")
            return int(result.result_rows[0][0])
        finally:
            client.close()

    def dead_letters(self) -> DeadLetters:
        """The dead letters once every expected one has arrived (or the last reading).

        A timeout is not a failure here: the caller compares the reading with the poison
        injected and its message lists both, which says more than "timed out"."""
        readings: list[DeadLetters] = []

        def all_arrived() -> bool:
            readings.append(read_dead_letters(self.settings))
            return readings[-1].origins >= self.expected_dead_letters

        with contextlib.suppress(AssertionError):  # the deadline passed: the last reading
            wait_until(all_arrived, deadline_seconds=DEAD_LETTER_DEADLINE_SECONDS, poll=1.0,
                       what="every expected dead letter")
        return readings[-1]

    def wait_fresh(self) -> float | None:
        """Freshness once it is under the healthy limit (or the last reading, which the
        caller asserts on and reports)."""
        readings: list[float | None] = []

        def fresh() -> bool:
            readings.append(freshness_seconds(self.settings))
            return readings[-1] is not None and readings[-1] < FRESHNESS_LIMIT_SECONDS

        with contextlib.suppress(AssertionError):  # the deadline passed: the last reading
            wait_until(fresh, deadline_seconds=VERIFY_DEADLINE_SECONDS, poll=1.0,
                       what="freshness under the healthy limit")
        return readings[-1]


def explain(report: VerifyReport, width: int = 160) -> str:
    """The failing checks, each value cut to `width` characters (names can be long)."""
    def short(value: object) -> str:
        text = str(value)
        return text if len(text) <= width else f"{text[:width]}...({len(text)} chars)"

    failing = [r for r in report.results if not r.ok]
    described = "; ".join(
        f"{r.name}: {r.mismatches} mismatches, e.g. "
        + ", ".join(f"{m.key}: postgres {short(m.expected)} clickhouse {short(m.found)}"
                    for m in r.samples[:3])
        + (f" error {r.error}" if r.error else "")
        for r in failing[:4])
    # Every failing check is named: issue 21's report showed four aggregates and cut off
    # the check that said why (dq_repeated_deltas, after them in the order).
    rest = [f"{r.name} ({r.mismatches})" for r in failing[4:]]
    return (described + (f"; also failing: {', '.join(rest)}" if rest else "")) \
        or str(report.errors)
