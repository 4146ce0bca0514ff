"""Session-scoped services and per-test factories shared by every test package.

One fixture per service (`postgres`, `kafka`, `connect`, `clickhouse`, `superset`). Each
yields the session's `Settings`, with the service running and healthy. Natively the
supervisor starts the real processes on free ports under a temporary state directory;
with Docker, `tests/containers.py` starts the same services from official images.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from boxoffice.bi.bootstrap import BootstrapResult, bootstrap
from contracts.settings import Settings
from tests.providers import docker_available, test_settings

TESTS_ROOT = Path(__file__).parent
DIRECTORY_MARKERS = {"unit": "unit", "integration": "integration", "e2e": "e2e",
                     "security": "security", "chaos": "chaos"}
"""tests/<directory>/ -> the marker every test under it carries."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the directory it lives in, before `-m` selects: so
    `pytest -m integration` runs exactly tests/integration, and a test's tier is where
    it is filed rather than a decorator someone may forget."""
    for item in items:
        top = item.path.relative_to(TESTS_ROOT).parts[0]
        marker = DIRECTORY_MARKERS.get(top)
        if marker is not None:
            item.add_marker(marker)


@pytest.fixture(scope="session")
def stack_settings() -> Iterator[Settings]:
    """The session's stack lives outside pytest's temp root: pytest resets that root to
    0700, and PostgreSQL runs as another OS user that must reach its data directory.
    BOXOFFICE_KEEP_TEST_STATE=1 keeps it (logs, data) after the session."""
    state_dir = Path(tempfile.mkdtemp(prefix="boxoffice-stack-"))
    state_dir.chmod(0o755)
    yield test_settings(state_dir)
    if os.environ.get("BOXOFFICE_KEEP_TEST_STATE"):  # logs and data, for a post-mortem
        print(f"\nkept the test stack's state directory: {state_dir}")
        return
    shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def service_provider(stack_settings: Settings) -> Iterator[object]:
    if docker_available():
        from tests.containers import ContainerProvider

        provider: object = ContainerProvider(stack_settings)
    else:
        from tests.native import NativeProvider

        provider = NativeProvider(stack_settings)
    yield provider
    provider.close()  # type: ignore[attr-defined]


def _service(provider: object, name: str) -> Settings:
    return provider.ensure(name)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="session")
def postgres(service_provider: object) -> Settings:
    return _service(service_provider, "postgres")


@pytest.fixture(scope="session")
def kafka(service_provider: object) -> Settings:
    return _service(service_provider, "kafka")


@pytest.fixture(scope="session")
def connect(service_provider: object, kafka: Settings, postgres: Settings) -> Settings:
    return _service(service_provider, "connect")


@pytest.fixture(scope="session")
def clickhouse(service_provider: object) -> Settings:
    return _service(service_provider, "clickhouse")


@pytest.fixture(scope="session")
def superset(service_provider: object, clickhouse: Settings) -> Settings:
    return _service(service_provider, "superset")


@pytest.fixture(scope="session")
def bootstrapped(superset: Settings, tmp_path_factory: pytest.TempPathFactory
                 ) -> BootstrapResult:
    """Superset with the ClickHouse connection (no dashboards: an empty bundle dir)."""
    no_bundle = tmp_path_factory.mktemp("no-dashboards")
    return bootstrap(superset, dashboards_dir=no_bundle)


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Factory of names no other test uses: topics, databases, tables."""

    def make(prefix: str) -> str:
        return f"{prefix}_{uuid.uuid4().hex[:10]}"

    return make
