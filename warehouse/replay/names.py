"""Names a replay invents: the shadow database and the next version of the facts topic.

Versioned names keep an old and a new generation side by side (old tables readable until
the swap, the old facts topic still there for comparison), and make each run's names
unique so a retried replay never meets the leftovers of a failed one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_VERSIONED_TOPIC = re.compile(r"^(?P<base>.+)\.v(?P<version>\d+)$")
_VERSIONED_APP = re.compile(r"^(?P<base>.+)-v(?P<version>\d+)$")


def shadow_database(live: str, *, now: datetime | None = None) -> str:
    """`<live>_shadow_<UTC timestamp>`: a plain identifier, unique per second."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return f"{live}_shadow_{moment}"


def topic_version(topic: str) -> int:
    match = _VERSIONED_TOPIC.match(topic)
    return int(match.group("version")) if match else 1


def next_facts_topic(topic: str) -> str:
    """boxoffice.facts.v1 -> boxoffice.facts.v2; an unversioned name gets .v2."""
    match = _VERSIONED_TOPIC.match(topic)
    base = match.group("base") if match else topic
    return f"{base}.v{topic_version(topic) + 1}"


def app_id_for_version(app_id: str, version: int) -> str:
    """The processors' Faust app id (consumer group, internal topics) for a facts version.

    Version 1 keeps the configured id, so an installation that never replayed is unchanged.
    """
    match = _VERSIONED_APP.match(app_id)
    base = match.group("base") if match else app_id
    return base if version <= 1 else f"{base}-v{version}"
