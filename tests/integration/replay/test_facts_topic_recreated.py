"""The facts topic deleted and created again on a whole pipeline, then recovered.

The sink is stopped while sales are made, so their facts wait in the facts topic; the
topic is then deleted (those facts with it) and created again while more sales are made
(the processors write facts throughout), and the sink is started. Asserted: the
warehouse is short of the first sales (verify fails: the negative control that the loss
is real), `status`'s topics check is red and names `boxoffice replay cdc`; after that
replay, verify is ALL MATCH, the per-ticket check finds every PostgreSQL ticket once and
the check is green on the new facts topic.
"""

from __future__ import annotations

import threading

from confluent_kafka.admin import AdminClient

from boxoffice.pipeline import supervisor
from boxoffice.replay.cdc import replay_cdc
from boxoffice.replay.reconcile import SourceReconciler
from boxoffice.status.topics import RECREATED_FIX, facts_topic_recreated
from boxoffice.verify import verify_until
from connectors.traffic import run_workload
from contracts.settings import Settings
from stream_processors.topics import ensure_output_topics
from tests.chaos.per_ticket import ticket_differences
from tests.integration.stack.kafka_clients import delete_topic, end_offsets
from tests.support.waiting import wait_until
from warehouse.replay import ReplayOptions


def test_a_recreated_facts_topic_is_red_and_replay_cdc_makes_the_warehouse_exact(
        pipeline: Settings) -> None:
    settings = pipeline
    assert verify_until(settings, wait_seconds=300).ok
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    assert facts_topic_recreated(settings, admin) is None  # green before

    supervisor(settings).down(["sink"], progress=print)
    before = sum(end_offsets(settings, settings.facts_topic))
    run_workload(settings, 19, 60)
    wait_until(lambda: sum(end_offsets(settings, settings.facts_topic)) > before,
               deadline_seconds=120, what="the processors to write the sales' facts")
    selling = threading.Thread(target=run_workload, args=(settings, 20, 120))
    selling.start()  # the topic goes and comes back while the processors write to it
    try:
        delete_topic(settings, settings.facts_topic)
        ensure_output_topics(settings)  # what the processors would do on their next start
        supervisor(settings).up(["sink"], progress=print)
    finally:
        selling.join()

    said = wait_until(lambda: facts_topic_recreated(settings, admin), deadline_seconds=180,
                      what="status to see the facts topic recreated")
    assert RECREATED_FIX in said
    assert not verify_until(settings, wait_seconds=20).ok  # the first sales are lost

    report = replay_cdc(settings, options=ReplayOptions(show_progress=False),
                        catch_up_deadline_seconds=600,
                        reconcile=SourceReconciler(settings, wait_seconds=120))
    assert report.facts.swapped, report.facts.problems
    switched = settings.model_copy(update={"facts_topic": report.facts_topic,
                                           "faust_app_id": report.faust_app_id})
    final = verify_until(switched, wait_seconds=300)
    assert final.ok, final.as_dict()
    assert ticket_differences(switched) == []
    assert facts_topic_recreated(switched, admin) is None
