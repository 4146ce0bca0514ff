"""Create the CDC topics before anything subscribes to them.

Debezium creates a table's topic only when the table's first event arrives, but the
processors and the sink subscribe at start-up and a consumer does not notice a topic
created later. Creating every published table's topic up front, with the same settings
the connector would use (compacted, `kafka_partitions` partitions), removes that race.
"""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, NewTopic

from connectors.errors import SourceError
from contracts.settings import Settings
from contracts.tables import PUBLISHED_TABLES
from contracts.topics import cdc_topic, topic_configs


def ensure_cdc_topics(settings: Settings, *, timeout: float = 30.0) -> list[str]:
    """Create the missing CDC topics; returns the names created (idempotent)."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    configs = topic_configs(settings)
    missing = [
        NewTopic(name, num_partitions=settings.kafka_partitions,
                 replication_factor=settings.kafka_replication_factor, config=configs[name])
        for name in (cdc_topic(settings, table) for table in PUBLISHED_TABLES)
        if name not in existing
    ]
    if not missing:
        return []
    created = []
    for name, future in admin.create_topics(missing, request_timeout=timeout).items():
        try:
            future.result(timeout)
            created.append(name)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise SourceError(f"kafka: cannot create CDC topic {name}: {exc}") from exc
    return created
