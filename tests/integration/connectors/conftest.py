"""A fresh, migrated source database per test, with its own slot, publication and topics.

The session's PostgreSQL, Kafka and Connect are shared; names are unique per test, and
the connector, its slot and the database are removed afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from connectors.migrate import migrate
from contracts.settings import Settings
from tests.support.sources import admin_connection, remove_source


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
