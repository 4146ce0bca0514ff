"""The recovery from a lost slot ends exact, deletes made during the gap included.

With the pipeline running and reconciled, the connector is stopped and its slot dropped.
During the gap tickets are deleted (alone, and with their purchase) and others repriced.
`boxoffice connector resnapshot` takes a full snapshot, which brings back every current
row but cannot show a delete. The negative control stops there: the deleted tickets still
stand in the warehouse, and verify and the per-ticket oracle both see them. Then the
recovery's second step writes the missing deletes (`connectors.ghosts`); verify is ALL
MATCH and every PostgreSQL ticket stands once in the facts, with its price.
"""

from __future__ import annotations

from boxoffice.verify import verify_until
from connectors import manage
from connectors.ghosts import delete_ghosts
from connectors.slot import drop_slot, slot_state
from contracts.settings import Settings
from tests.chaos.per_ticket import ticket_differences
from tests.e2e.flow import explain, run_sql, seeded_and_exact, stopped_connector
from tests.support.waiting import wait_until


def test_resnapshot_after_a_lost_slot_deletes_what_the_gap_deleted(
        running_pipeline: Settings) -> None:
    settings = running_pipeline
    s = settings.source_schema
    seeded_and_exact(settings, seed_value=17)

    stopped_connector(settings)
    wait_until(lambda: not slot_state(settings).exists or drop_slot(settings),
               deadline_seconds=60, what="the slot to be released and dropped")
    run_sql(settings, [
        f"delete from {s}.tickets where id in (select id from {s}.tickets order by id "
        "limit 10)",
        f"delete from {s}.tickets where purchase_id = (select max(purchase_id) from "
        f"{s}.tickets)",
        f"delete from {s}.purchases where id not in (select purchase_id from {s}.tickets) "
        f"and id = (select max(id) from {s}.purchases)",
        f"update {s}.tickets set price = price + 7 where id in (select id from {s}.tickets "
        "order by id desc limit 10)",
    ])

    manage.resnapshot(settings, deadline_seconds=240, remove_ghosts=False)
    manage.wait_initial_snapshot(settings, deadline_seconds=240)
    # the negative control: the snapshot brings the repriced tickets, not the deletes
    stale = verify_until(settings, wait_seconds=60)
    assert not stale.ok
    assert any("left in the facts after they were deleted" in line
               for line in ticket_differences(settings)), ticket_differences(settings)[:3]

    removed = delete_ghosts(settings, progress=print)
    assert removed["tickets"] >= 11, removed

    report = verify_until(settings, wait_seconds=240)
    assert report.ok, explain(report, settings)
    assert ticket_differences(settings) == []
    assert delete_ghosts(settings)["tickets"] == 0  # nothing left to delete
