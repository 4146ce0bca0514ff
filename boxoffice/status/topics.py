"""The topics' retention and cleanup against the policy: red when a record could be
deleted by time before it is used (see boxoffice/topics.py). And the facts topic's
incarnation: red when it was deleted and created again under the sink (the sink records
every Kafka topic id it reads, `warehouse.sink.incarnations`), since facts it had not
stored went with the old topic."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicCollection

from boxoffice.status.freshness import reader_client
from boxoffice.status.kafka_admin import REQUEST_TIMEOUT_SECONDS, admin_client
from boxoffice.status.model import OK, UNHEALTHY, Section
from boxoffice.topics import FIX, drift
from contracts.settings import Settings

RECREATED_FIX = "boxoffice replay cdc"


def topics_section(settings: Settings) -> Section:
    admin = admin_client(settings)
    recreated = facts_topic_recreated(settings, admin)
    if recreated:
        return Section("topics", UNHEALTHY, recreated,
                       data={"recreated": settings.facts_topic})
    found = drift(settings, admin, timeout=REQUEST_TIMEOUT_SECONDS)
    if not found:
        return Section("topics", OK, "every pipeline topic follows the retention policy")
    return Section("topics", UNHEALTHY,
                   f"{len(found)} setting(s) differ from the retention policy, e.g. "
                   f"{found[0]}; records could be deleted before they are used: run `{FIX}`",
                   data={"drift": [str(d) for d in found]})


def facts_topic_recreated(settings: Settings, admin: Any) -> str | None:
    """What to say if the sink stored records of another incarnation of the facts topic
    than the one Kafka has now (None: the same one, or nothing recorded yet)."""
    from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

    topic = settings.facts_topic
    futures = admin.describe_topics(TopicCollection([topic]),
                                    request_timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        current = str(futures[topic].result(REQUEST_TIMEOUT_SECONDS).topic_id)
    except KafkaException as exc:
        if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            return None  # not created yet: the policy check below says so
        raise
    client = reader_client(settings)
    try:
        rows = client.query(
            f"SELECT topic_id, min(first_seen) FROM {settings.clickhouse_database}"
            ".sink_topic_ids WHERE topic = {topic:String} GROUP BY topic_id",
            parameters={"topic": topic}).result_rows
    except (DatabaseError, OperationalError):
        return None  # ClickHouse away (its own section says so) or a schema before 0018
    finally:
        client.close()
    older = sorted((str(seen), str(topic_id)) for topic_id, seen in rows
                   if str(topic_id) != current)
    if not older:
        return None
    seen, old_id = older[-1]
    return (f"{topic} was deleted and created again: Kafka's id is now {current}, the sink "
            f"stored facts of {old_id} (first read {seen} UTC); facts the sink had not "
            f"stored went with the old topic. Run `{RECREATED_FIX}` to rebuild the facts "
            "from the change topics")
