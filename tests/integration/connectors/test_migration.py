"""The source migration: idempotent, the right replica identities, a narrow replication role."""

from __future__ import annotations

import psycopg2
import pytest
from psycopg2 import errors

from connectors.db import connect, replication_connection
from connectors.migrate import migrate
from contracts.settings import Settings
from contracts.tables import PUBLISHED_TABLES


def _rows(settings: Settings, query: str, args: tuple[object, ...] = ()) -> list[tuple]:
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def test_migration_runs_twice_and_keeps_data(source: Settings) -> None:
    conn = connect(source)
    with conn, conn.cursor() as cur:
        cur.execute("insert into festival.venues (name, capacity) values ('AMD', 1)")
    conn.close()
    migrate(source)
    migrate(source)
    assert _rows(source, "select name from festival.venues") == [("AMD",)]
    assert _rows(source, "select id from festival.heartbeat") == [(1,)]


def test_replica_identities(source: Settings) -> None:
    identity = dict(_rows(source, "select relname, relreplident::text from pg_class where "
                                  "relnamespace = 'festival'::regnamespace and relkind = 'r'"))
    assert {t: identity[t] for t in ("tickets", "purchases", "performances")} == dict.fromkeys(
        ("tickets", "purchases", "performances"), "f")
    assert {identity[t] for t in ("bands", "venues", "people", "heartbeat")} == {"d"}


def test_publication_holds_exactly_the_festival_tables(source: Settings) -> None:
    rows = _rows(source, "select schemaname, tablename from pg_publication_tables "
                         "where pubname = %s", (source.publication_name,))
    assert sorted(rows) == sorted(("festival", t) for t in PUBLISHED_TABLES)


def test_replication_role_is_not_privileged(source: Settings) -> None:
    [(superuser, replication, createdb, createrole)] = _rows(
        source, "select rolsuper, rolreplication, rolcreatedb, rolcreaterole from pg_roles "
                "where rolname = %s", (source.replication_user,))
    assert replication and not (superuser or createdb or createrole)


@pytest.mark.parametrize("statement", [
    "insert into festival.venues (name, capacity) values ('x', 1)",
    "update festival.tickets set price = 1",
    "delete from festival.people",
    "insert into festival.bands (name, fee) values ('x', 50)",
    "truncate festival.purchases",
    "create table festival.intruder (id int)",
])
def test_replication_role_cannot_write(source: Settings, statement: str) -> None:
    conn = replication_connection(source)
    try:
        with pytest.raises(errors.InsufficientPrivilege), conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def test_replication_role_reads_only_published_tables(source: Settings) -> None:
    owner = connect(source, autocommit=True)
    with owner.cursor() as cur:
        cur.execute("create table festival.staff_notes (id int, note text)")
        cur.execute("create table public.payroll (id int)")
    owner.close()
    conn = replication_connection(source)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for table in PUBLISHED_TABLES:
                cur.execute(f"select count(*) from festival.{table}")
            for table in ("festival.staff_notes", "public.payroll"):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(f"select * from {table}")
    finally:
        conn.close()
