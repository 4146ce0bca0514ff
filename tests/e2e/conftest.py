"""The whole pipeline for end-to-end tests: services from the provider, then `up`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from boxoffice import pipeline
from boxoffice.settings import Settings
from boxoffice.stack.components import pipeline_components
from boxoffice.stack.supervisor import Supervisor
from tests.native import NativeProvider


@pytest.fixture(scope="session")
def running_pipeline(
    service_provider: object, postgres: Settings, kafka: Settings, connect: Settings,
    clickhouse: Settings, superset: Settings,
) -> Iterator[Settings]:
    settings = postgres
    native = isinstance(service_provider, NativeProvider)
    pipeline.up(settings, lambda line: print(f"[up] {line}"), start_services=native)
    yield settings
    Supervisor(settings=settings, components=pipeline_components(settings)).down(
        progress=lambda line: print(f"[down] {line}"))
