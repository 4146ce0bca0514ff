"""`boxoffice replay facts`: rebuild the fact table and every aggregate from the facts
topic into a shadow database, check it, and swap it in while the dashboards keep reading
the old tables.

    shadow  <- warehouse migrations                     (its views feed its aggregates)
    shadow  <- facts topic [start, end offsets)         (bulk, progress bar)
    sink    stop                                        (dashboards still answer)
    shadow  <- facts topic [end, sink's committed)      (top-up: nothing the sink stored
                                                         is missing from the shadow)
    check   rows/tickets/revenue = what was read; signs per ticket in 0..1; aggregates
    sink group offsets -> where the shadow stops;  EXCHANGE TABLES live <-> shadow
    sink    start (continues from those offsets into the new live tables)
    drop the shadow database (now holding the old tables) unless keep_old

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

CLOCK_MARGIN = timedelta(minutes=10)
"""--from TIME reads the topic from TIME minus this, so records whose Kafka timestamp is
a little earlier than their source time (clock skew) are not missed."""
SINK_CATCH_UP_SECONDS = 120.0

Say = Callable[[str], None]


class PausableProcess(Protocol):
    """The sink's process as the replay sees it: stopped before the swap so nothing is
    stored between the shadow's last offset and the exchange, restored afterwards (only
    if it was running). The operate layer passes its supervisor's control."""

    def stop(self) -> None: ...

    def restore(self) -> None: ...


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
                 say: Say = print,
                 on_swapped: Callable[[], None] = lambda: None) -> ReplayReport:
    """Rebuild from `topic` (default settings.facts_topic) and swap; see the module doc.

    `sink` is the supervised sink to pause around the swap (None: no sink runs);
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
    create_shadow(executor, live=live, shadow=shadow)
    swapped = False
    try:
        report.tables = derived_tables(executor, live)
        if derived_tables(executor, shadow) != report.tables:
            raise ReplayError(f"replay: {shadow} and {live} rebuild different tables; run "
                              "`boxoffice warehouse migrate` and replay again.")
        say(f"rebuilding {', '.join(report.tables)} from {topic}")
        swapped = _run(settings, executor, sink, opts, report, say, on_swapped)
    finally:
        if not swapped or not opts.keep_old:
            drop_database(executor, shadow)
        elif swapped:
            say(f"the previous tables are kept in {shadow}")
        executor.client.close()
    return report


def _run(settings: Settings, executor: ClientExecutor, sink: PausableProcess | None,
         opts: ReplayOptions, report: ReplayReport, say: Say,
         on_swapped: Callable[[], None]) -> bool:
    topic, live, shadow = report.topic, report.live_database, report.shadow_database
    since_ms = int(opts.since.timestamp() * 1000) if opts.since else None
    start = start_offsets(settings, topic, opts.since - CLOCK_MARGIN if opts.since else None)
    ends = end_offsets(settings, topic)
    reader = FactsReader(settings=settings, topic=topic, start=start,
                         batch_rows=opts.batch_rows, min_source_ts_ms=since_ms)
    client = connect(settings, send_receive_timeout=3600, compress=False,
                     autogenerate_session_id=False)
    table = f"{shadow}.{FACT_TABLE}"
    try:
        began = time.monotonic()
        loader = ShadowLoader(client=client, table=table)
        total = sum(max(ends[p] - start.get(p, 0), 0) for p in ends)
        with read_progress(f"replay {topic}", total, enabled=opts.show_progress) as advance:
            reader.read_until(ends, loader.put, advance)
            loader.finish()
        report.bulk_seconds = time.monotonic() - began
        report.bulk_rows = reader.state.totals.rows
        say(f"bulk: {report.bulk_rows:,} rows in {report.bulk_seconds:.1f} s "
            f"({report.rows_per_second:,.0f} rows/s)")

        if since_ms is not None:
            _wait_for_sink(settings, topic, ends)
        stopped_at = time.monotonic()
        if sink is not None:
            sink.stop()
        try:
            committed = committed_offsets(settings, settings.sink_group, topic)
            target = {p: max(ends[p], committed.get(p, 0)) for p in ends}
            if since_ms is not None:
                executor.command(
                    f"INSERT INTO {table} SELECT * FROM {live}.{FACT_TABLE} "
                    f"WHERE source_ts_ms < {since_ms}")
                report.kept_from_live = fact_totals(executor, shadow)
                report.kept_from_live.rows -= reader.state.totals.rows
                report.kept_from_live.tickets -= reader.state.totals.tickets
                report.kept_from_live.revenue -= reader.state.totals.revenue
            before = reader.state.totals.rows
            loader = ShadowLoader(client=client, table=table)
            reader.read_until(target, loader.put)
            loader.finish()
            report.topup_rows = reader.state.totals.rows - before
            report.read = reader.state.totals
            report.skipped = reader.state.skipped
            report.offsets = target
            expected = Totals()
            expected.add(report.read)
            expected.add(report.kept_from_live)
            result = check_shadow(executor, shadow, expected=expected, tables=report.tables)
            report.problems = result.problems
            if not result.ok and not opts.force:
                raise ShadowCheckFailed(
                    "replay: the shadow failed its checks, nothing was swapped:\n  - "
                    + "\n  - ".join(result.problems)
                    + "\nInspect the topic (or run with --force to swap anyway).")
            moved = {p: o for p, o in target.items() if o != committed.get(p)}
            if moved:
                commit_offsets(settings, settings.sink_group, topic, moved)
            swap(executor, live=live, shadow=shadow, tables=report.tables)
            report.swapped = True
            say(f"swapped {len(report.tables)} tables into {live} "
                f"(top-up {report.topup_rows:,} rows)")
            on_swapped()
        finally:
            if sink is not None:
                sink.restore()
            report.sink_stopped_seconds = time.monotonic() - stopped_at
    finally:
        reader.close()
        client.close()
    return report.swapped


def _wait_for_sink(settings: Settings, topic: str, ends: Offsets) -> None:
    """--from TIME copies what the sink stored: let it first store what the bulk read."""
    deadline = time.monotonic() + SINK_CATCH_UP_SECONDS
    while True:
        committed = committed_offsets(settings, settings.sink_group, topic)
        if all(committed.get(p, 0) >= o for p, o in ends.items()):
            return
        if time.monotonic() > deadline:
            raise ReplayError(
                f"replay: the sink ({settings.sink_group}) did not reach {ends} on {topic} "
                f"within {SINK_CATCH_UP_SECONDS:.0f} s (it is at {committed}); is it "
                "running? Nothing was swapped.")
        time.sleep(0.5)
