"""replay cdc through the whole pipeline: Postgres -> Debezium -> Kafka -> processors ->
sink -> ClickHouse, the processors and the sink under the real supervisor. With sales
running, `replay_cdc` re-runs the processors into the next facts topic, rebuilds the
warehouse from it (reconciled against PostgreSQL before the swap) and switches the
pipeline; after the sales stop `verify` passes, and the
new processors and sink keep the warehouse exact on the new topic."""

from __future__ import annotations

import threading

from boxoffice.replay.cdc import replay_cdc
from boxoffice.replay.reconcile import SourceReconciler
from boxoffice.verify import verify_until
from connectors.traffic import run_workload
from contracts.settings import Settings, load_settings
from tests.integration.replay.live import DashboardReader
from warehouse.replay import ReplayOptions


def test_replay_cdc_switches_to_new_facts_and_verify_passes(pipeline: Settings) -> None:
    settings = pipeline
    assert verify_until(settings, wait_seconds=300).ok  # the history went through v1

    dashboards = DashboardReader(settings)
    dashboards.start()
    sales = threading.Thread(target=run_workload, args=(settings, 17, 150))
    sales.start()
    try:
        report = replay_cdc(settings, options=ReplayOptions(show_progress=False),
                            catch_up_deadline_seconds=600,
                            reconcile=SourceReconciler(settings, wait_seconds=120))
    finally:
        sales.join()
    assert report.facts_topic == f"{settings.clickhouse_database}.facts.v2"
    assert report.facts.swapped, report.facts.problems
    assert report.facts.read.rows > 0

    current = load_settings(state_dir=settings.state_dir)
    assert current.facts_topic == report.facts_topic  # recorded for every later command
    switched = settings.model_copy(update={"facts_topic": report.facts_topic,
                                           "faust_app_id": report.faust_app_id})
    final = verify_until(switched, wait_seconds=300)
    dashboards.stop()
    assert final.ok, final.as_dict()
    assert dashboards.errors == []
    assert dashboards.answers > 0

    run_workload(settings, 18, 40)  # sold after the switch: through the new generation
    assert verify_until(switched, wait_seconds=300).ok
