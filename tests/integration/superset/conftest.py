"""Superset test helpers: an admin API session and a bootstrapped Superset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from boxoffice.bi.bootstrap import BootstrapResult, bootstrap, logged_in_client
from boxoffice.bi.client import SupersetClient
from boxoffice.settings import Settings


@pytest.fixture(scope="session")
def bootstrapped(superset: Settings, tmp_path_factory: pytest.TempPathFactory
                 ) -> BootstrapResult:
    """Superset with the ClickHouse connection (no dashboards: an empty bundle dir)."""
    no_bundle = tmp_path_factory.mktemp("no-dashboards")
    return bootstrap(superset, dashboards_dir=no_bundle)


@pytest.fixture
def admin(superset: Settings) -> Iterator[SupersetClient]:
    client = logged_in_client(superset)
    yield client
    client.close()
