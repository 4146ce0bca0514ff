"""What each stage of a worker is given, built once from the settings by the runner.

The stages receive names, the salt and clients, not the settings object: a stage's
constructor then says exactly what it depends on, a test builds one from plain values,
and a settings field the stage does not name cannot change its behaviour.
`for_route` and `for_join` are the only places that read `Settings` for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from contracts.columns import table_map
from contracts.settings import Settings
from contracts.tables import JOINED_TABLES
from contracts.topics import changelog_topic, join_topic, processor_input_topics
from stream_processors.changelog import read_partition


@dataclass(frozen=True)
class RouteWiring:
    tables: dict[str, str]
    """CDC topic -> source table, for every topic the route stage reads."""
    join_topic: str
    partitions: int
    """Join partitions: the join topic's partition count."""
    dead_letter_topic: str
    bootstrap: str
    """Named in fatal errors, so the message says which broker to check."""
    column_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    """Source table -> its column map (`contracts.columns.table_map`), where it has one."""


@dataclass(frozen=True)
class JoinWiring:
    join_topic: str
    changelog_topic: str
    facts_topic: str
    heartbeat_topic: str
    dead_letter_topic: str
    partitions: int
    salt: str
    """The person-hash salt (`contracts.facts.person_key`)."""
    bootstrap: str
    read_changelog: Callable[[int], Iterable[tuple[str, list[Any]]]]
    """partition -> its committed changelog entries, oldest first (state recovery)."""


def for_route(settings: Settings) -> RouteWiring:
    return RouteWiring(tables=processor_input_topics(settings), join_topic=join_topic(settings),
                       partitions=settings.kafka_partitions,
                       dead_letter_topic=settings.dead_letter_topic,
                       bootstrap=settings.kafka_bootstrap,
                       column_maps=column_maps(settings))


def column_maps(settings: Settings) -> dict[str, dict[str, str]]:
    return {table: mapped for table in JOINED_TABLES
            if (mapped := table_map(settings.column_map, table))}


def for_join(settings: Settings) -> JoinWiring:
    return JoinWiring(join_topic=join_topic(settings), changelog_topic=changelog_topic(settings),
                      facts_topic=settings.facts_topic, heartbeat_topic=settings.heartbeat_topic,
                      dead_letter_topic=settings.dead_letter_topic,
                      partitions=settings.kafka_partitions,
                      salt=settings.secret("person_hash_salt"),
                      bootstrap=settings.kafka_bootstrap,
                      read_changelog=partial(read_partition, settings))
