"""`boxoffice replay facts`: rebuild the fact table and every aggregate from the facts
topic into a shadow database, check it, and swap it in while the dashboards keep reading
the old tables.

    shadow  <- warehouse migrations                     (its views feed its aggregates)
    shadow  <- facts topic [start, sink's committed)    (bulk, progress bar)
    reconcile  the shadow against PostgreSQL, topping it up to the topic's end
            while the sink runs, until they agree; then until the sink has stored
            as far as the shadow read
    sink    stop                                        (dashboards still answer)
    shadow  <- facts topic [bulk end, sink's committed) (top-up: what the sink stored
                                                         while the bulk ran)
    check   rows/tickets/revenue = what was read; signs per ticket in 0..1; aggregates
    swap    EXCHANGE TABLES live <-> shadow
    sink    start (continues from its own offsets, now into the rebuilt tables)
    drop the shadow database (now holding the old tables) unless keep_old

The shadow ends exactly where the sink's committed offsets are, so the sink's offsets never
move: the old tables and the rebuilt ones hold the same records of the topic. A crash at
any step leaves whichever tables are live consistent with the sink's offsets, and the
sink, started again, continues exactly (a crash between stop and start leaves it
stopped: `boxoffice up` starts it).

A topic the sink has not read yet (`replay cdc`'s new generation) is read to its end, and
the sink group's offsets on it are set before the swap: harmless, because the sink reads
another topic until the pipeline is switched over to this one.

With `since` (--from TIME) the rows of live facts whose source_ts_ms is before TIME are
kept (copied into the shadow while the sink is stopped) and only the topic's records
from TIME on are replayed: the path when the topic no longer retains the whole history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from contracts.settings import Settings
from warehouse.executor import ClientExecutor, connect
from warehouse.replay.checks import check_shadow, fact_totals
from warehouse.replay.counts import Totals
from warehouse.replay.errors import ReplayError, ShadowCheckFailed
from warehouse.replay.loader import ShadowLoader
from warehouse.replay.names import shadow_database
from warehouse.replay.offsets import (
    Offsets,
    commit_offsets,
    committed_offsets,
    end_offsets,
    start_offsets,
)
from warehouse.replay.progress import read_progress
from warehouse.replay.reader import FactsReader
from warehouse.replay.shadow import (
    FACT_TABLE,
    create_shadow,
    derived_tables,
    drop_database,
    swap,
)

SINK_CATCH_UP_SECONDS = 120.0
"""After the reconciliation the sink must store as far as the shadow read (it is
running, normally a second or two behind) before it is stopped."""
CLOCK_MARGIN = timedelta(minutes=10)
"""--from TIME reads the topic from TIME minus this, so records whose Kafka timestamp is
a little earlier than their source time (clock skew) are not missed."""

Say = Callable[[str], None]


class PausableProcess(Protocol):
    """The sink's process as the replay sees it: stopped before the swap so nothing is
    stored between the shadow's last offset and the exchange, restored afterwards (only
    if it was running). The operate layer passes its supervisor's control."""

    def stop(self) -> None: ...

    def restore(self) -> None: ...

    def running(self) -> bool: ...


class Reconcile(Protocol):
    """Compares the shadow database with the source (the operate layer passes verify's
    checks). It may call `top_up` to read the topic further into the shadow while it
    waits for the source and the topic to agree; it returns the differences it still
    finds, [] when they match."""

    def __call__(self, shadow: str, top_up: Callable[[], None]) -> list[str]: ...


@dataclass
class ReplayOptions:
    since: datetime | None = None
    batch_rows: int = 200_000
    keep_old: bool = False
    force: bool = False
    show_progress: bool = True


@dataclass
class ReplayReport:
    topic: str
    live_database: str
    shadow_database: str
    tables: list[str]
    read: Totals = field(default_factory=Totals)
    kept_from_live: Totals = field(default_factory=Totals)
    skipped: int = 0
    bulk_rows: int = 0
    bulk_seconds: float = 0.0
    topup_rows: int = 0
    sink_stopped_seconds: float = 0.0
    offsets: Offsets = field(default_factory=dict)
    swapped: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.bulk_rows / self.bulk_seconds if self.bulk_seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic, "live_database": self.live_database,
            "shadow_database": self.shadow_database, "tables": self.tables,
            "read": self.read.as_dict(), "kept_from_live": self.kept_from_live.as_dict(),
            "skipped_invalid": self.skipped, "bulk_rows": self.bulk_rows,
            "bulk_seconds": round(self.bulk_seconds, 3),
            "rows_per_second": round(self.rows_per_second),
            "topup_rows": self.topup_rows,
            "sink_stopped_seconds": round(self.sink_stopped_seconds, 3),
            "offsets": {str(p): o for p, o in sorted(self.offsets.items())},
            "swapped": self.swapped, "problems": self.problems,
        }


def replay_facts(settings: Settings, *, sink: PausableProcess | None,
                 options: ReplayOptions | None = None, topic: str | None = None,
                 sink_has_read: bool = True, reconcile: Reconcile | None = None,
                 say: Say = print,
                 on_swapped: Callable[[], None] = lambda: None) -> ReplayReport:
    """Rebuild from `topic` (default settings.facts_topic) and swap; see the module doc.

    `sink` is the supervised sink to pause around the swap (None: no sink runs).
    `sink_has_read`: the sink group consumes `topic` already, so the shadow ends at its
    committed offsets; False for a topic it has not read yet (the shadow reads to the
    end and the group's offsets there are set before the swap).
    `reconcile` compares the shadow with the source before the swap (None: the shadow
    is checked only against what was read; with `since` it is not called, because the
    history before `since` is copied from the live table, trusted as it is).
    `on_swapped` runs after the swap, before the sink starts again (replay cdc switches
    the pipeline to the new facts topic there).
    Raises ShadowCheckFailed (nothing swapped) when the shadow disagrees with the topic.
    """
    opts = options or ReplayOptions()
    topic = topic or settings.facts_topic
    live = settings.clickhouse_database
    executor = ClientExecutor(connect(settings, send_receive_timeout=3600))
    report = ReplayReport(topic=topic, live_database=live,
                          shadow_database=shadow_database(live), tables=[])
    shadow = report.shadow_database
    say(f"shadow database {shadow}")
    create_shadow(executor, live=live, shadow=shadow,
                  dedup_window_blocks=settings.clickhouse_dedup_window_blocks)
    swapped = False
    try:
        report.tables = derived_tables(executor, live)
        if derived_tables(executor, shadow) != report.tables:
            raise ReplayError(f"replay: {shadow} and {live} rebuild different tables; run "
                              "`boxoffice warehouse migrate` and replay again.")
        say(f"rebuilding {', '.join(report.tables)} from {topic}")
        run = _Run(settings, executor, sink, opts, report, say, sink_has_read,
                   None if opts.since else reconcile)
        swapped = run.execute(on_swapped)
    finally:
        if not swapped or not opts.keep_old:
            drop_database(executor, shadow)
        elif swapped:
            say(f"the previous tables are kept in {shadow}")
        executor.client.close()
    return report


@dataclass
class _Run:
    """One replay's steps, in the order of the module doc; each says what it did, so an
    operator (and the crash tests, which kill the replay at each of these lines) can tell
    where a replay stopped."""

    settings: Settings
    executor: ClientExecutor
    sink: PausableProcess | None
    opts: ReplayOptions
    report: ReplayReport
    say: Say
    sink_has_read: bool
    reconcile: Reconcile | None

    def execute(self, on_swapped: Callable[[], None]) -> bool:
        settings, opts, report = self.settings, self.opts, self.report
        topic = report.topic
        self.since_ms = int(opts.since.timestamp() * 1000) if opts.since else None
        start = start_offsets(settings, topic,
                              opts.since - CLOCK_MARGIN if opts.since else None)
        ends = end_offsets(settings, topic)
        if self.sink_has_read:
            committed = committed_offsets(settings, settings.sink_group, topic)
            ends = {p: min(o, committed.get(p, 0)) for p, o in ends.items()}
        self.reader = FactsReader(settings=settings, topic=topic, start=start,
                                  batch_rows=opts.batch_rows, min_source_ts_ms=self.since_ms)
        self.client = connect(settings, send_receive_timeout=3600, compress=False,
                              autogenerate_session_id=False)
        self.table = f"{report.shadow_database}.{FACT_TABLE}"
        try:
            self._bulk(start, ends)
            self.read_to = dict(ends)
            if self.reconcile is not None:
                self._reconcile(self.reconcile)
            stopped_at = time.monotonic()
            if self.sink is not None:
                self.sink.stop()
            try:
                self._top_up_check_and_swap(on_swapped)
            finally:
                if self.sink is not None:
                    self.sink.restore()
                report.sink_stopped_seconds = time.monotonic() - stopped_at
        finally:
            self.reader.close()
            self.client.close()
        return report.swapped

    def _bulk(self, start: Offsets, ends: Offsets) -> None:
        report = self.report
        began = time.monotonic()
        loader = ShadowLoader(client=self.client, table=self.table)
        total = sum(max(ends[p] - start.get(p, 0), 0) for p in ends)
        with read_progress(f"replay {report.topic}", total,
                           enabled=self.opts.show_progress) as advance:
            self.reader.read_until(ends, loader.put, advance)
            loader.finish()
        report.bulk_seconds = time.monotonic() - began
        report.bulk_rows = self.reader.state.totals.rows
        self.say(f"bulk: {report.bulk_rows:,} rows in {report.bulk_seconds:.1f} s "
                 f"({report.rows_per_second:,.0f} rows/s)")

    def _reconcile(self, reconcile: Reconcile) -> None:
        """The shadow against the source while the sink runs; then the sink is let
        store as far as the shadow read, so stopping it moves no offset."""
        settings, topic = self.settings, self.report.topic
        follow = not self.sink_has_read or (self.sink is not None and self.sink.running())

        def top_up() -> None:
            if follow:
                self._read_to(end_offsets(settings, topic))

        problems = reconcile(self.report.shadow_database, top_up)
        if problems:
            self.report.problems += problems
            hint = ("" if follow else " The sink is not running: start it (`boxoffice "
                    "up`) so the shadow can follow the source, then replay again.")
            if not self.opts.force:
                raise ShadowCheckFailed(
                    "replay: the shadow does not match PostgreSQL, nothing was swapped:\n"
                    "  - " + "\n  - ".join(problems) + "\nThe facts topic no longer "
                    "holds everything the warehouse needs (retention, a recreated topic)? "
                    "Rebuild the facts from the CDC topics with `boxoffice replay cdc`, "
                    "or re-read the source tables first (`boxoffice connector snapshot`)."
                    + hint)
            self.say("the shadow does not match PostgreSQL; swapping anyway (--force)")
        if self.sink_has_read and follow:
            self._wait_for_sink(self.read_to)

    def _read_to(self, target: Offsets) -> int:
        """Read the topic into the shadow up to `target`; the rows read."""
        before = self.reader.state.totals.rows
        target = {p: max(o, self.read_to.get(p, 0)) for p, o in target.items()}
        loader = ShadowLoader(client=self.client, table=self.table)
        self.reader.read_until(target, loader.put)
        loader.finish()
        self.read_to = target
        return self.reader.state.totals.rows - before

    def _wait_for_sink(self, offsets: Offsets) -> None:
        settings, topic = self.settings, self.report.topic
        deadline = time.monotonic() + SINK_CATCH_UP_SECONDS
        while True:
            committed = committed_offsets(settings, settings.sink_group, topic)
            if all(committed.get(p, 0) >= o for p, o in offsets.items()):
                return
            if time.monotonic() > deadline:
                raise ReplayError(
                    f"replay: the sink ({settings.sink_group}) did not store as far as "
                    f"the shadow ({_offsets_text(offsets)}) within "
                    f"{SINK_CATCH_UP_SECONDS:.0f} s; it is at {_offsets_text(committed)}. "
                    "See `boxoffice status`. Nothing was swapped.")
            time.sleep(0.5)

    def _top_up_check_and_swap(self, on_swapped: Callable[[], None]) -> None:
        settings, report, executor = self.settings, self.report, self.executor
        topic, live, shadow = report.topic, report.live_database, report.shadow_database
        committed = committed_offsets(settings, settings.sink_group, topic)
        target = committed if self.sink_has_read else end_offsets(settings, topic)
        self.say(f"sink stopped at {_offsets_text(committed)}")
        if self.since_ms is not None:
            self._keep_live_history()
        report.topup_rows = self._read_to(target)
        target = self.read_to
        report.read = self.reader.state.totals
        report.skipped = self.reader.state.skipped
        report.offsets = target
        self.say(f"top-up: {report.topup_rows:,} rows, the shadow ends at "
                 f"{_offsets_text(target)}")
        expected = Totals()
        expected.add(report.read)
        expected.add(report.kept_from_live)
        result = check_shadow(executor, shadow, expected=expected, tables=report.tables)
        report.problems += result.problems
        if not result.ok and not self.opts.force:
            raise ShadowCheckFailed(
                "replay: the shadow failed its checks, nothing was swapped:\n  - "
                + "\n  - ".join(result.problems)
                + "\nInspect the topic (or run with --force to swap anyway).")
        self.say("shadow checks passed" if result.ok else
                 f"shadow checks failed ({len(result.problems)}), swapping anyway (--force)")
        if not self.sink_has_read:
            commit_offsets(settings, settings.sink_group, topic, target)
            self.say(f"sink offsets on {topic} set to {_offsets_text(target)}")
        swap(executor, live=live, shadow=shadow, tables=report.tables)
        report.swapped = True
        self.say(f"swapped {len(report.tables)} tables into {live} "
                 f"(top-up {report.topup_rows:,} rows)")
        on_swapped()

    def _keep_live_history(self) -> None:
        """--from TIME: what live holds from before TIME is copied, not replayed. The sink
        stored every record the bulk read (the bulk ends at its offsets)."""
        report, totals = self.report, self.reader.state.totals
        self.executor.command(
            f"INSERT INTO {self.table} SELECT * FROM {report.live_database}.{FACT_TABLE} "
            f"WHERE source_ts_ms < {self.since_ms}")
        report.kept_from_live = fact_totals(self.executor, report.shadow_database)
        report.kept_from_live.rows -= totals.rows
        report.kept_from_live.tickets -= totals.tickets
        report.kept_from_live.revenue -= totals.revenue


def _offsets_text(offsets: Offsets) -> str:
    return ", ".join(f"{p}:{o}" for p, o in sorted(offsets.items())) or "(none)"
