"""A test's own source database on the session's PostgreSQL: made, and removed with its
connector and replication slot, the same way by every suite."""

from __future__ import annotations

import contextlib

import psycopg2

from connectors.connect_api import ConnectClient
from connectors.errors import ConnectorError
from connectors.slot import drop_slot, slot_state
from contracts.settings import Settings
from tests.support.waiting import wait_until

SLOT_DROP_SECONDS = 60
"""A slot stays active for a moment after its connector is deleted; drop retries that long."""


def admin_connection(settings: Settings) -> psycopg2.extensions.connection:
    """Autocommit connection to the server's `postgres` database (CREATE/DROP DATABASE)."""
    conn = psycopg2.connect(settings.postgres_dsn().replace(
        f"dbname={settings.postgres_db}", "dbname=postgres"), connect_timeout=5)
    conn.autocommit = True
    return conn


def remove_source(settings: Settings, *, with_connector: bool) -> None:
    """Drop the test's source database; first its connector and slot when it had them."""
    if with_connector:
        with contextlib.suppress(ConnectorError):
            ConnectClient(settings=settings).delete(settings.connector_name)
        # Best effort: a slot still held at the deadline makes the drop below fail, and
        # that error says which database is in use.
        with contextlib.suppress(psycopg2.Error, AssertionError):
            wait_until(lambda: not slot_state(settings).exists or drop_slot(settings),
                       deadline_seconds=SLOT_DROP_SECONDS,
                       what=f"slot {settings.slot_name} dropped")
    conn = admin_connection(settings)
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{settings.postgres_db}" with (force)')
    conn.close()
