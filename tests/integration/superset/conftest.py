"""Superset test helpers: an admin API session and a bootstrapped Superset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from boxoffice.bi.bootstrap import (
    DASHBOARDS_DIR,
    bootstrap,
    logged_in_client,
)
from boxoffice.bi.client import SupersetClient
from contracts.settings import Settings
from tests.integration.superset.festival_data import (
    Festival,
    write_dimensions,
    write_facts,
    write_heartbeat,
)
from warehouse.executor import ClientExecutor, connect
from warehouse.migrate import migrate

LIVE_SALES_AT_START = 150


@pytest.fixture
def admin(superset: Settings) -> Iterator[SupersetClient]:
    client = logged_in_client(superset)
    yield client
    client.close()


@pytest.fixture(scope="session")
def festival(superset: Settings) -> Festival:
    """The repo's dashboards over a small known festival written into ClickHouse.

    Superset's connection reads the session's warehouse database, which an earlier
    test (the e2e live dashboard) may have filled through the whole pipeline: its
    venues share stage names with these and its heartbeats carry join partitions that
    would hide ours. So the database is emptied first, then migrated, then given
    dimensions, three festivals of history, today's live sales and a heartbeat; last,
    Superset is bootstrapped with the bundle in superset/dashboards/.
    """
    database = superset.clickhouse_database
    executor = ClientExecutor(connect(superset))
    executor.command(f"DROP DATABASE IF EXISTS {database} SYNC")
    migrate(executor, database)
    data = Festival()
    write_dimensions(superset, data)
    write_facts(superset, data.history() + data.live_sales(LIVE_SALES_AT_START))
    write_heartbeat(superset)
    bootstrap(superset, dashboards_dir=DASHBOARDS_DIR)
    return data
