"""The source's history going backwards is loud at the processors, not only at the
connector.

A restore or a failover to an older replica writes new changes at LSNs the join has
passed; it keeps each row's last LSN and would drop them as repeats without a word. The
connector section catches a restore when the connector's own offset is ahead of the WAL
(tests/integration/connectors/test_source_restored.py). This is the other way in: an
event stream replayed into the CDC topics (here one older heartbeat record produced
again, as a capture re-run into the same topics would). The processors see a heartbeat
at a lower LSN than the one before it: `status` turns red, names both LSNs and the fix,
and a worker's own /metrics says so too. Before it, the same check is green (the
negative control).
"""

from __future__ import annotations

from confluent_kafka import Producer

from boxoffice.status.model import UNHEALTHY
from boxoffice.status.processors import processors_section
from contracts.changes import lsn_from_text
from contracts.settings import Settings
from contracts.topics import cdc_topic
from tests.e2e.flow import seeded_and_exact
from tests.integration.stack.kafka_clients import drain
from tests.support.waiting import wait_until


def test_an_older_heartbeat_replayed_into_the_cdc_topic_is_red(
        running_pipeline: Settings) -> None:
    settings = running_pipeline
    seeded_and_exact(settings, seed_value=47)
    section = processors_section(settings)
    assert section.state != UNHEALTHY, section.summary  # the negative control

    topic = cdc_topic(settings, "heartbeat")
    (oldest,) = drain(settings, topic, count=1)  # the oldest heartbeat still kept
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    producer.produce(topic, oldest.value, oldest.key)
    assert producer.flush(30) == 0

    red = wait_until(lambda: (s := processors_section(settings)).state == UNHEALTHY and s,
                     deadline_seconds=60, what="the processors section to turn red")
    assert "WENT BACK IN TIME" in red.summary, red.summary
    assert "boxoffice replay cdc" in red.summary
    went_back = red.data["source_went_back"]
    assert lsn_from_text(went_back["lsn"]) < lsn_from_text(went_back["after_lsn"])
