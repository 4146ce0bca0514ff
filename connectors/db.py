"""Connections to the ticketing database, as the owner or as another role."""

from __future__ import annotations

import psycopg2
import psycopg2.extensions

from contracts.settings import Settings


def connect(settings: Settings, *, user: str | None = None, password: str | None = None,
            autocommit: bool = False) -> psycopg2.extensions.connection:
    """A new connection to settings.postgres_db (the owner unless another role is given)."""
    conn = psycopg2.connect(settings.postgres_dsn(user=user, password=password),
                            connect_timeout=5)
    conn.autocommit = autocommit
    return conn


def replication_connection(settings: Settings) -> psycopg2.extensions.connection:
    """A plain SQL connection as the replication role (tests check what it may not do)."""
    return connect(settings, user=settings.replication_user,
                   password=settings.secret("replication_password"))
