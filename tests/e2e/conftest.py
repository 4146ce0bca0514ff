"""The whole pipeline for end-to-end tests, with names no other test shares."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from contracts.settings import Settings
from tests.support.isolated_pipeline import IsolatedPipeline


@pytest.fixture(scope="module")
def running_pipeline(
    postgres: Settings, kafka: Settings, connect: Settings, clickhouse: Settings,
) -> Iterator[Settings]:
    """Services from the session's provider; source, topics and warehouse the e2e's own.

    Module-scoped: the pipeline's processes are named per state directory, so only one
    whole pipeline runs at a time and the next module starts from a clean slate."""
    pipeline = IsolatedPipeline.create(postgres, f"e2e_{uuid.uuid4().hex[:8]}",
                                       say=lambda line: print(f"[e2e] {line}"))
    pipeline.up()
    yield pipeline.settings
    pipeline.remove()
