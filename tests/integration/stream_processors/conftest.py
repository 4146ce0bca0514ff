"""Per-test settings for the processor tests: unique topics, app id and web port."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from contracts.settings import Settings
from tests.integration.stream_processors.harness import create_cdc_topics
from tests.providers import free_port
from tests.support.cdc_model import SALT


@pytest.fixture
def proc_settings(kafka: Settings, unique_name: Callable[[str], str],
                  tmp_path: Path) -> Settings:
    """The session's Kafka, with topics and consumer group no other test uses."""
    s = kafka.model_copy(update={
        "state_dir": tmp_path,
        "topic_prefix": unique_name("cdc"),
        "faust_app_id": unique_name("processors"),
        "facts_topic": unique_name("facts"),
        "dead_letter_topic": unique_name("dlq"),
        "heartbeat_topic": unique_name("heartbeats"),
        "metrics_topic": unique_name("metrics"),
        "faust_web_port": free_port(),
        "person_hash_salt": SecretStr(SALT),
    })
    create_cdc_topics(s)
    return s
