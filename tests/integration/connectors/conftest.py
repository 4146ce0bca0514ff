"""A fresh, migrated source database per test, with its own slot, publication and topics.

The session's PostgreSQL, Kafka and Connect are shared; names are unique per test, and
the connector, its slot and the database are removed afterwards.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import psycopg2
import pytest

from connectors.connect_api import ConnectClient
from connectors.errors import ConnectorError
from connectors.migrate import migrate
from connectors.slot import drop_slot, slot_state
from contracts.settings import Settings


def admin_connection(settings: Settings) -> psycopg2.extensions.connection:
    """Autocommit connection to the server's `postgres` database (CREATE/DROP DATABASE)."""
    conn = psycopg2.connect(settings.postgres_dsn().replace(
        f"dbname={settings.postgres_db}", "dbname=postgres"))
    conn.autocommit = True
    return conn


def fresh_source(base: Settings, name: str) -> Settings:
    """Settings pointing at a new, migrated database `name` and names derived from it."""
    settings = base.model_copy(update={
        "postgres_db": name, "publication_name": f"{name}_pub", "slot_name": f"{name}_slot",
        "connector_name": f"{name}-source", "topic_prefix": name,
    })
    conn = admin_connection(base)
    with conn.cursor() as cur:
        cur.execute(f'create database "{name}"')
    conn.close()
    migrate(settings)
    return settings


def remove_source(settings: Settings, *, with_connector: bool) -> None:
    if with_connector:
        with contextlib.suppress(ConnectorError):
            ConnectClient(settings=settings).delete(settings.connector_name)
        deadline = time.monotonic() + 60
        while slot_state(settings).exists and time.monotonic() < deadline:
            if not drop_slot(settings):
                time.sleep(0.5)
    conn = admin_connection(settings)
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{settings.postgres_db}" with (force)')
    conn.close()


@pytest.fixture
def source(postgres: Settings, unique_name: Callable[[str], str]) -> Iterator[Settings]:
    """A migrated, empty source database (PostgreSQL only)."""
    settings = fresh_source(postgres, unique_name("src"))
    yield settings
    remove_source(settings, with_connector=False)


@pytest.fixture
def captured_source(connect: Settings, unique_name: Callable[[str], str]
                    ) -> Iterator[Settings]:
    """Like `source`, and the connector is removed with its slot afterwards."""
    settings = fresh_source(connect, unique_name("cdc"))
    yield settings
    remove_source(settings, with_connector=True)
