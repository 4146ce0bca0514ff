"""Creation of the topics the processors own (their names are in `contracts.topics`).

The broker never auto-creates topics. `ensure_output_topics` creates the join topic
(``kafka_partitions`` partitions: one per join partition) and the facts, dead-letter,
heartbeat and metrics topics when they are missing (idempotent); `changelog.
ensure_changelog` creates the state changelog. Each is created with its retention and
cleanup settings from `contracts.topics.topic_configs`.
"""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, NewTopic

from contracts.settings import Settings
from contracts.topics import join_topic, topic_configs
from stream_processors.failures import ProcessorsError


def ensure_output_topics(settings: Settings, *, timeout: float = 30.0) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    wanted = {
        join_topic(settings): settings.kafka_partitions,
        settings.facts_topic: settings.kafka_partitions,
        settings.dead_letter_topic: 1,
        settings.heartbeat_topic: 1,
        settings.metrics_topic: 1,
    }
    metadata = admin.list_topics(timeout=timeout).topics
    existing = set(metadata)
    join = join_topic(settings)
    if join in metadata and len(metadata[join].partitions) != settings.kafka_partitions:
        raise ProcessorsError(
            f"processors: the join topic {join} has {len(metadata[join].partitions)} "
            f"partitions but BOXOFFICE_KAFKA_PARTITIONS is {settings.kafka_partitions}; "
            "they must match (each join partition is a unit of state). Set it back, or "
            "start a new generation with `boxoffice replay cdc`.")
    configs = topic_configs(settings)
    missing = [NewTopic(name, num_partitions=n,
                        replication_factor=settings.kafka_replication_factor,
                        config=configs[name])
               for name, n in wanted.items() if name not in existing]
    for name, future in admin.create_topics(missing, request_timeout=timeout).items() \
            if missing else ():
        try:
            future.result(timeout)
        except Exception as exc:  # another worker created it first
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise ProcessorsError(f"processors: cannot create topic {name}: {exc}") from exc
