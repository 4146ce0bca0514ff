"""A column's type changed while the connector is behind it: loud, and a recovery that ends
exact.

Debezium (3.7, pgoutput) reads a table's column type names from the live catalog when it
decodes a relation message, but the values' type from the message itself. A relation
message that describes rows written before `ALTER COLUMN ... TYPE`, decoded after that
ALTER committed, mixes the two: the price written as an integer is parsed as a numeric
and refused by the integer converter, and the task fails ("Unexpected value for JDBC
type 4 and column price numeric(10, 0)"). It happens when the connector is behind the
ALTER and a relation message comes first: after any restart, or after other DDL on the
same table within the connector's lag (docs/source.md, 'Changing a column's type').

Here it is made certain: the connector is stopped, tickets are repriced as integers,
the price becomes numeric(12, 2) and tickets get cents, then the connector resumes.
Its task fails; status is red and names the recovery. A restart fails the same way (the
negative control: the record cannot be read by this Debezium). `boxoffice connector
resnapshot` ends exact: verify ALL MATCH, every ticket once with its price to the cent.
"""

from __future__ import annotations

from boxoffice.status.connector import connector_section
from boxoffice.status.model import UNHEALTHY
from boxoffice.verify import verify_until
from connectors import manage
from contracts.settings import Settings
from tests.chaos.per_ticket import ticket_differences
from tests.e2e.flow import (
    explain,
    run_sql,
    seeded_and_exact,
    stopped_connector,
    what_each_stage_says,
)
from tests.support.waiting import wait_until


def task_failed(settings: Settings) -> bool:
    return "FAILED" in manage.status(settings).task_states


def test_a_type_change_behind_the_connector_is_red_and_a_resnapshot_ends_exact(
        running_pipeline: Settings) -> None:
    settings = running_pipeline
    s = settings.source_schema
    seeded_and_exact(settings, seed_value=19)

    client = stopped_connector(settings)
    run_sql(settings, [
        f"update {s}.tickets set price = price + 1 where id in (select id from {s}.tickets "
        "order by id limit 5)",
        f"alter table {s}.tickets alter column price type numeric(12, 2)",
        f"update {s}.tickets set price = price + 0.25 where id in (select id from "
        f"{s}.tickets order by id desc limit 5)",
    ])
    client.resume(settings.connector_name)
    wait_until(lambda: task_failed(settings), deadline_seconds=120,
               what="the connector's task to fail on the integer written before the ALTER",
               explain=lambda: what_each_stage_says(settings))
    section = connector_section(settings)
    assert section.state == UNHEALTHY
    assert "boxoffice connector resnapshot" in section.summary, section.summary
    assert "type" in section.summary, section.summary

    # the negative control: a restart reads the same relation message and fails again
    client.restart(settings.connector_name)
    wait_until(lambda: not task_failed(settings), deadline_seconds=60, poll=0.1,
               what="the restarted task to run")
    wait_until(lambda: task_failed(settings), deadline_seconds=120,
               what="the restarted task to fail on the same record",
               explain=lambda: what_each_stage_says(settings))

    manage.resnapshot(settings, deadline_seconds=240)
    report = verify_until(settings, wait_seconds=240)
    assert report.ok, explain(report, settings)
    assert ticket_differences(settings) == []
