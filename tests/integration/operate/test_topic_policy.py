"""Retention is a decision, not a default (issue 18): every pipeline topic is created
with the policy's retention and cleanup (`contracts.topics.topic_configs`), and a topic
that exists with other settings is named, with the fix, by `boxoffice up` (which refuses
to go on) and by `status` (red), until `boxoffice topics apply` sets the policy.

On the session's broker, under topic names of the test's own.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType

from boxoffice.status.model import OK, UNHEALTHY
from boxoffice.status.topics import topics_section
from boxoffice.topics import FIX, TopicPolicyError, apply_policy, drift, require_policy
from connectors.cdc_topics import ensure_cdc_topics
from contracts.settings import Settings
from contracts.topics import join_topic, topic_configs
from stream_processors.changelog import ensure_changelog
from stream_processors.topics import ensure_output_topics
from tests.support.waiting import wait_until

WEEK_MS = "604800000"
"""The broker's default retention: what a topic created without settings gets."""


@pytest.fixture
def names(kafka: Settings, unique_name: Callable[[str], str]) -> Settings:
    return kafka.model_copy(update={
        "topic_prefix": unique_name("cdc"), "faust_app_id": unique_name("processors"),
        "facts_topic": unique_name("facts"), "dead_letter_topic": unique_name("dlq"),
        "heartbeat_topic": unique_name("heartbeats"), "metrics_topic": unique_name("metrics"),
    })


def _admin(settings: Settings) -> AdminClient:
    return AdminClient({"bootstrap.servers": settings.kafka_bootstrap})


def _described(settings: Settings, topic: str) -> dict[str, str]:
    """The topic's settings, once the broker knows the topic (a new topic reaches the
    broker's metadata a moment after its creation returns)."""
    resource = ConfigResource(ResourceType.TOPIC, topic)
    admin = _admin(settings)  # kept alive until the answer is in

    def described() -> dict[str, str] | None:
        try:
            entries = admin.describe_configs([resource])[resource].result(30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
            return None
        return {name: entry.value for name, entry in entries.items()}

    found: dict[str, str] = wait_until(described, deadline_seconds=30, poll=0.1,
                                       what=f"the broker to know {topic}")
    return found


def test_every_topic_is_created_with_its_policy(names: Settings) -> None:
    ensure_cdc_topics(names)
    ensure_output_topics(names)
    ensure_changelog(names)
    policy = topic_configs(names)
    for topic, wanted in policy.items():
        described = _described(names, topic)
        assert {k: described[k] for k in wanted} == wanted, topic
    assert _described(names, names.facts_topic)["retention.ms"] == "-1"
    assert drift(names, _admin(names)) == []
    require_policy(names)  # nothing to report
    assert topics_section(names).state == OK


def test_a_topic_with_the_brokers_default_is_named_refused_and_fixed(names: Settings) -> None:
    """The facts and join topics created the way they were before the policy (no
    settings: 7 days, then deleted), as on an installation that predates it."""
    admin = _admin(names)
    old = [NewTopic(t, num_partitions=names.kafka_partitions, replication_factor=1)
           for t in (names.facts_topic, join_topic(names))]
    for future in admin.create_topics(old).values():
        future.result(30)
    assert _described(names, names.facts_topic)["retention.ms"] == WEEK_MS  # the control
    assert _described(names, join_topic(names))["retention.ms"] == WEEK_MS

    found = {(d.topic, d.setting) for d in drift(names, admin)}
    assert {(names.facts_topic, "retention.ms"), (join_topic(names), "retention.ms")} <= found
    with pytest.raises(TopicPolicyError) as refused:
        require_policy(names)
    assert names.facts_topic in str(refused.value) and FIX in str(refused.value)
    section = topics_section(names)
    assert section.state == UNHEALTHY and FIX in section.summary

    changed = apply_policy(names)
    assert {(d.topic, d.setting) for d in changed} == found
    wait_until(lambda: drift(names, admin) == [], deadline_seconds=30, poll=0.2,
               what="the broker to apply the policy")  # configs propagate asynchronously
    assert _described(names, names.facts_topic)["retention.ms"] == "-1"
    assert topics_section(names).state == OK
