"""The pipeline's topics against their retention and cleanup policy.

`contracts.topics.topic_configs` decides each topic's settings and the stages create
topics with them. A topic created before that, or changed by hand, may still carry the
broker's default (7 days, then deleted): `drift` finds every such setting, `boxoffice up`
refuses to start the pipeline on it, `boxoffice status` shows it red, and
`boxoffice topics apply` (the fix both name) sets the policy's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from boxoffice.errors import BoxofficeError
from contracts.settings import Settings
from contracts.topics import topic_configs

FIX = "boxoffice topics apply"


@dataclass(frozen=True)
class Drift:
    topic: str
    setting: str
    actual: str | None
    wanted: str

    def __str__(self) -> str:
        return f"{self.topic}: {self.setting}={self.actual} (the policy says {self.wanted})"


class TopicPolicyError(BoxofficeError):
    """Topics whose retention or cleanup differ from the policy."""


def drift(settings: Settings, admin: Any = None, *, timeout: float = 30.0) -> list[Drift]:
    """Every setting of an existing pipeline topic that differs from the policy (topics
    not created yet are not drift: they will be created with the policy). `admin`: a
    client to ask through (status passes its quick one), else a new one."""
    if admin is None:
        admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    wanted = topic_configs(settings)
    existing = set(admin.list_topics(timeout=timeout).topics)
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in wanted
                 if name in existing]
    found: list[Drift] = []
    if not resources:
        return found
    for resource, future in admin.describe_configs(resources,
                                                   request_timeout=timeout).items():
        try:
            entries = future.result(timeout)
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                continue  # just created, not on the broker yet: created with the policy
            raise
        for setting, value in wanted[resource.name].items():
            actual = entries[setting].value if setting in entries else None
            if actual != value:
                found.append(Drift(resource.name, setting, actual, value))
    return found


def require_policy(settings: Settings) -> None:
    """`boxoffice up`'s check: raise, naming every drifted setting and the fix."""
    found = drift(settings)
    if found:
        raise TopicPolicyError(
            f"kafka: {len(found)} topic setting(s) differ from the retention policy, so "
            f"records could be deleted before they are used: {'; '.join(map(str, found))}. "
            f"Run `{FIX}` to set the policy's values (it deletes nothing), then "
            "`boxoffice up` again.")


def apply_policy(settings: Settings) -> list[Drift]:
    """Set every drifted setting to the policy's value; returns what was changed."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    found = drift(settings, admin)
    by_topic: dict[str, list[Drift]] = {}
    for item in found:
        by_topic.setdefault(item.topic, []).append(item)
    resources = [ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry(d.setting, d.wanted, incremental_operation=AlterConfigOpType.SET)
        for d in items]) for topic, items in by_topic.items()]
    if resources:
        for resource, future in admin.incremental_alter_configs(resources).items():
            try:
                future.result(30)
            except Exception as exc:
                raise TopicPolicyError(f"kafka: cannot set the policy on {resource.name}: "
                                       f"{exc}") from exc
    return found
