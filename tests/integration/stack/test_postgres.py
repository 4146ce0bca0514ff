"""PostgreSQL as the stack runs it: logical WAL, bounded slots, the ticketing database."""

from __future__ import annotations

import psycopg2

from contracts.settings import Settings


def _query(settings: Settings, sql: str) -> object:
    with psycopg2.connect(settings.postgres_dsn()) as conn, conn.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
    conn.close()
    return row[0] if row else None


def test_ticketing_database_accepts_the_owner(postgres: Settings) -> None:
    assert _query(postgres, "select current_database()") == postgres.postgres_db


def test_wal_is_logical_and_slots_are_bounded(postgres: Settings) -> None:
    assert _query(postgres, "show wal_level") == "logical"
    keep = postgres.postgres_max_slot_wal_keep_size
    assert _query(postgres, "show max_slot_wal_keep_size") == keep


def test_listens_on_loopback_only(postgres: Settings) -> None:
    assert _query(postgres, "show listen_addresses") == postgres.bind_host
