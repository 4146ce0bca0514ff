"""Stopped tables: DDL at the source that the pipeline cannot carry, under sales.

Two cases, one per stage that reads the changed table:

- the sink's dimension: ``venues.capacity`` renamed to ``seats`` and ``venues.name``
  dropped;
- the processors' join: ``tickets.price`` made ``numeric(10,3)``. Amounts are carried to
  the cent, so the type change is a widening (whole amounts and cents flow, tested here
  too); the first amount with a fraction of a cent stops that ticket's partition.

While stopped: status names each table and column with the fix, the dead-letter count
stays flat, and facts keep arriving (the other tables, and the other partitions of the
stopped one). The operator's fix: the column map in settings (the rename, and a value for
the changes made without a readable column, which rewriting the rows supersedes: the
name is added back and filled, the price rounded to the cent), then a restart of both
stages. They resume where they stopped and reconcile: verify ALL MATCH, and every
PostgreSQL ticket stands once in the facts with its price (the per-ticket oracle).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from boxoffice.stack.components import pipeline_components
from boxoffice.stack.supervisor import Supervisor
from boxoffice.status.collect import collect_status
from boxoffice.status.model import StatusReport
from boxoffice.verify import verify, verify_until
from contracts.settings import Settings
from tests.chaos.deadletters import read_dead_letters
from tests.chaos.per_ticket import ticket_differences
from tests.e2e.flow import explain, run_sql, sales, seeded_and_exact, what_each_stage_says
from tests.support.waiting import wait_until
from warehouse.executor import ClientExecutor
from warehouse.executor import connect as clickhouse

STAGES = ["processors", "sink"]


def fact_rows(settings: Settings) -> int:
    executor = ClientExecutor(clickhouse(settings))
    try:
        ((count,),) = executor.rows(
            f"SELECT count() FROM {settings.clickhouse_database}.fact_ticket_sales")
    finally:
        executor.client.close()
    return int(count)


def status_once(settings: Settings) -> StatusReport:
    return collect_status(settings)


def stopped_in(section: str, table: str, column: str) -> Callable[[StatusReport], bool]:
    def check(report: StatusReport) -> bool:
        stopped = report.section(section).data.get("stopped_tables") or {}
        return any(d.get("table") == table and d.get("column") == column
                   for d in stopped.values())
    return check


def test_a_renamed_or_dropped_column_and_a_fraction_of_a_cent_stop_their_tables(
        running_pipeline: Settings) -> None:
    settings = running_pipeline
    s = settings.source_schema
    dead_before = seeded_and_exact(settings, seed_value=13)

    with sales(settings, duration=75, seed=31):
        run_sql(settings, [
            f"alter table {s}.venues rename column capacity to seats",
            f"alter table {s}.venues drop column name",
            f"update {s}.venues set seats = seats + 10 where id <= 6",
            f"alter table {s}.tickets alter column price type numeric(10, 3)",
            # whole amounts and cents after the type change flow (a widening) ...
            f"update {s}.tickets set price = price + 1 where id in (select id from "
            f"{s}.tickets order by id limit 5)",
            f"update {s}.tickets set price = price + 0.25 where id in (select id from "
            f"{s}.tickets order by id limit 5)",
        ])
        # ... and the first amount with a fraction of a cent stops its ticket's partition
        ((cents_ticket,),) = run_sql(settings, [
            f"update {s}.tickets set price = price + 0.505 where id = (select max(id) "
            f"from {s}.tickets) returning id"])

        def both_stopped() -> StatusReport | None:
            report = status_once(settings)
            return report if (stopped_in("sink", "venues", "name")(report) and
                              stopped_in("processors", "tickets", "price")(report)) else None

        try:
            report = wait_until(both_stopped, deadline_seconds=150,
                                what="both stages report their stopped table")
        except AssertionError:
            try:  # one fresh-clone run timed out here: say why next time
                print(what_each_stage_says(settings))
            except Exception as exc:
                print(f"could not read the stages' status: {exc!r}")
            raise
        coverage = report.section("source_tables")
        assert not coverage.healthy
        assert f"{s}.venues.name is missing" in coverage.summary
        assert f"{s}.venues.capacity is missing" in coverage.summary
        for name in ("sink", "processors"):
            section = report.section(name)
            assert not section.healthy
            assert "STOPPED" in section.summary and "BOXOFFICE_COLUMN_MAP" in section.summary
        assert "venues.name is missing" in report.section("sink").summary
        assert "tickets.price arrives as str '" in report.section("processors").summary

        # facts keep arriving while both tables are stopped
        before = fact_rows(settings)
        wait_until(lambda: fact_rows(settings) > before + 20, deadline_seconds=60,
                   what="facts while venues and one tickets partition stop")
    assert len(read_dead_letters(settings).records) == dead_before  # no flood, not one
    # verify, unmapped, says which table's column is gone instead of a bare SQL error
    (error,) = verify(settings).errors
    assert "no longer has a column the pipeline carries" in error
    assert "name does not exist" in error

    # The fix: add the name back and fill it, round the amount to the cent (changes that
    # supersede the stopped ones); map the rename, and give the changes made without a
    # readable column a value; restart.
    run_sql(settings, [
        f"alter table {s}.venues add column name text",
        f"update {s}.venues set name = 'Stage ' || id",
        f"update {s}.tickets set price = round(price, 2) where id = {cents_ticket}"])
    mapped = settings.model_copy(update={"column_map": {
        "venues.capacity": "seats", "venues.name": "=unknown", "tickets.price": "=0"}})
    supervisor = Supervisor(settings=mapped, components=pipeline_components(mapped))
    supervisor.down(STAGES, progress=print)
    supervisor.up(STAGES, progress=print)

    report = verify_until(mapped, wait_seconds=240)
    assert report.ok, explain(report, settings)
    assert ticket_differences(mapped) == []
    assert len(read_dead_letters(settings).records) == dead_before
    time.sleep(1)  # the stages' metrics catch up with their restart
    after = status_once(mapped)
    assert after.section("sink").healthy and after.section("processors").healthy, [
        after.section(n).summary for n in STAGES]
    assert after.section("source_tables").healthy
