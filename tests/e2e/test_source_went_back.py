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

from confluent_kafka import Consumer, Producer, TopicPartition

from boxoffice.status.model import UNHEALTHY
from boxoffice.status.processors import processors_section
from contracts.settings import Settings
from contracts.topics import cdc_topic
from tests.e2e.flow import seeded_and_exact
from tests.support.waiting import wait_until


def first_heartbeat(settings: Settings, topic: str) -> tuple[bytes | None, bytes]:
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": "e2e-went-back", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        while True:
            message = consumer.poll(10)
            assert message is not None, f"no heartbeat in {topic}"
            if message.error() is None and message.value():
                return message.key(), message.value()
    finally:
        consumer.close()


def test_an_older_heartbeat_replayed_into_the_cdc_topic_is_red(
        running_pipeline: Settings) -> None:
    settings = running_pipeline
    seeded_and_exact(settings, seed_value=47)
    section = processors_section(settings)
    assert section.state != UNHEALTHY, section.summary  # the negative control

    topic = cdc_topic(settings, "heartbeat")
    key, value = first_heartbeat(settings, topic)  # the oldest heartbeat still kept
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    producer.produce(topic, value, key)
    assert producer.flush(30) == 0

    red = wait_until(lambda: (s := processors_section(settings)).state == UNHEALTHY and s,
                     deadline_seconds=60, what="the processors section to turn red")
    assert "WENT BACK IN TIME" in red.summary, red.summary
    assert "boxoffice replay cdc" in red.summary
    went_back = red.data["source_went_back"]
    high, low = (int(part, 16) for part in went_back["lsn"].split("/"))
    after_high, after_low = (int(part, 16) for part in went_back["after_lsn"].split("/"))
    assert (high << 32) + low < (after_high << 32) + after_low
