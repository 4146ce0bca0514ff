"""Every Kafka topic name the pipeline derives, each formula written once.

The facts, heartbeat, dead-letter and metrics topics are settings of their own
(`facts_topic` and the like); the names below are derived from other settings, so every
stage that needs one calls the function here instead of repeating the f-string.
"""

from __future__ import annotations

from contracts.settings import Settings
from contracts.tables import PROCESSOR_INPUT_TABLES


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
