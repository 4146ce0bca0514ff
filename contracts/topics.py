"""Every Kafka topic name the pipeline derives, each formula written once.

The facts, heartbeat, dead-letter and metrics topics are settings of their own
(`facts_topic` and the like); the names below are derived from other settings, so every
stage that needs one calls the function here instead of repeating the f-string.
"""

from __future__ import annotations

from contracts.settings import Settings
from contracts.tables import PROCESSOR_INPUT_TABLES, PUBLISHED_TABLES


def cdc_prefix(settings: Settings) -> str:
    """What every CDC topic starts with: `<topic_prefix>.<source_schema>` (Debezium's
    `topic.prefix` followed by the schema)."""
    return f"{settings.topic_prefix}.{settings.source_schema}"


def cdc_topic(settings: Settings, table: str) -> str:
    """The CDC topic of one source table, as Debezium names it."""
    return f"{cdc_prefix(settings)}.{table}"


def processor_input_topics(settings: Settings) -> dict[str, str]:
    """CDC topic -> table, for every table the processors consume."""
    return {cdc_topic(settings, table): table for table in PROCESSOR_INPUT_TABLES}


def join_topic(settings: Settings) -> str:
    """The processors' repartition topic: routed changes keyed by join partition."""
    return f"{settings.faust_app_id}-join"


def changelog_topic(settings: Settings) -> str:
    """The join state's changelog (compacted): each join partition's state, replayable."""
    return f"{join_topic(settings)}-state-changelog"


DAY_MS = 86_400_000
KEEP_EVERY_RECORD = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
"""The facts topic is what `replay facts` rebuilds the warehouse from, the join topic holds
routed changes until the join has read them, dead letters wait for an operator: a
record deleted by time from any of them is a ticket lost without a word, so they keep
every record (the disk they take is the price; docs/operations.md)."""
COMPACTED = {"cleanup.policy": "compact", "delete.retention.ms": str(DAY_MS)}
"""CDC topics and the join state changelog: the latest record per key, for ever. A
tombstone stays a day after compaction reached it (Kafka's default, stated here)."""


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the pipeline creates -> the retention and cleanup settings it is
    created with and that `boxoffice up` checks (a decision, never the broker default)."""
    configs = {cdc_topic(settings, table): COMPACTED for table in PUBLISHED_TABLES}
    configs.update({
        join_topic(settings): KEEP_EVERY_RECORD,
        changelog_topic(settings): COMPACTED,
        settings.facts_topic: KEEP_EVERY_RECORD,
        settings.dead_letter_topic: KEEP_EVERY_RECORD,
        # freshness probes and metrics: only the latest matter; a week is plenty
        settings.heartbeat_topic: {"cleanup.policy": "delete", "retention.ms": str(7 * DAY_MS)},
        settings.metrics_topic: {"cleanup.policy": "delete", "retention.ms": str(DAY_MS)},
    })
    return configs
