"""Topic names the processors read and write, and creation of the ones they own.

The broker never auto-creates topics. Faust declares its internal topics (the join
topic and the state changelog) itself; `ensure_output_topics` creates the facts,
dead-letter, heartbeat and metrics topics when they are missing (idempotent).
"""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, NewTopic

from boxoffice.settings import Settings

JOINED_TABLES = ("tickets", "purchases", "performances")


def cdc_topic(settings: Settings, table: str) -> str:
    return f"{settings.topic_prefix}.{settings.source_schema}.{table}"


def cdc_topics(settings: Settings) -> dict[str, str]:
    """Topic name -> table, for the three joined tables and the heartbeat."""
    return {cdc_topic(settings, t): t for t in (*JOINED_TABLES, "heartbeat")}


def join_topic(settings: Settings) -> str:
    return f"{settings.faust_app_id}-join"


def ensure_output_topics(settings: Settings, *, timeout: float = 30.0) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    wanted = {
        settings.facts_topic: settings.kafka_partitions,
        settings.dead_letter_topic: 1,
        settings.heartbeat_topic: 1,
        settings.metrics_topic: 1,
    }
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [NewTopic(name, num_partitions=n, replication_factor=1)
               for name, n in wanted.items() if name not in existing]
    for name, future in admin.create_topics(missing, request_timeout=timeout).items() \
            if missing else ():
        try:
            future.result(timeout)
        except Exception as exc:  # another worker created it first
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise RuntimeError(f"processors: cannot create topic {name}: {exc}") from exc
