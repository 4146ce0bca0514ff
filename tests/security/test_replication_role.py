"""The replication role of the running pipeline holds exactly what capture needs.

tests/integration/connectors/test_migration.py already proves on a fresh source: not
superuser / createdb / createrole, INSERT/UPDATE/DELETE/TRUNCATE/CREATE refused on a few
tables, and no SELECT outside the publication. Here, on the pipeline's own role and
database, the whole catalog is enumerated instead of sampled: every table privilege the
role holds anywhere, schema and database CREATE, membership of the predefined roles that
read or write everything, row-level-security bypass, and the server-file functions.
"""

from __future__ import annotations

import psycopg2
import pytest
from psycopg2 import errors

from connectors.db import connect, replication_connection
from contracts.tables import PERSONAL_COLUMNS, PUBLISHED_TABLES
from tests.security.conftest import Secured

WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
ALLOWED_WRITES = {("heartbeat", "UPDATE"), ("debezium_signal", "INSERT")}
"""docs/source.md: Debezium's heartbeat.action.query and the signal table."""
POWERFUL_ROLES = ("pg_read_all_data", "pg_write_all_data", "pg_read_server_files",
                  "pg_write_server_files", "pg_execute_server_program", "pg_signal_backend",
                  "pg_monitor", "pg_read_all_settings")


def _owner_rows(secured: Secured, query: str, args: tuple[object, ...] = ()) -> list[tuple]:
    conn = connect(secured.settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(query, args or None)
            return list(cur.fetchall())
    finally:
        conn.close()


def test_table_privileges_are_select_on_the_publication_plus_two_documented_writes(
        secured: Secured) -> None:
    role = secured.settings.replication_user
    tables = _owner_rows(secured, """
        select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'v', 'm', 'f')
          and n.nspname not in ('pg_catalog', 'information_schema')""")
    assert len(tables) >= len(PUBLISHED_TABLES)
    held: set[tuple[str, str, str]] = set()
    for schema, table in tables:
        for privilege in ("SELECT", *WRITE_PRIVILEGES):
            [(has,)] = _owner_rows(secured, "select has_table_privilege(%s, %s, %s)",
                                   (role, f'"{schema}"."{table}"', privilege))
            if has:
                held.add((schema, table, privilege))
    schema = secured.settings.source_schema
    writes = {(t, p) for s, t, p in held if p != "SELECT"}
    assert writes == ALLOWED_WRITES
    assert all(s == schema for s, _, _ in held), sorted(held)
    readable = {t for s, t, p in held if p == "SELECT"}
    whole = set(PUBLISHED_TABLES) - set(PERSONAL_COLUMNS)
    assert readable == whole, "tables with personal columns get column grants only"


def test_personal_columns_are_neither_granted_nor_published(secured: Secured) -> None:
    """The role may select people's ids but not their names (refused: see below), and the
    publication carries no personal column, so neither a snapshot nor the WAL stream
    hands a name out."""
    s = secured.settings
    role = s.replication_user
    for table, personal in PERSONAL_COLUMNS.items():
        columns = [c for (c,) in _owner_rows(
            secured, "select column_name from information_schema.columns where "
                     "table_schema = %s and table_name = %s", (s.source_schema, table))]
        assert set(personal) < set(columns)
        granted = {c for c in columns if _owner_rows(
            secured, "select has_column_privilege(%s, %s, %s, 'SELECT')",
            (role, f'"{s.source_schema}"."{table}"', c))[0][0]}
        assert granted == set(columns) - set(personal), table
        [(published,)] = _owner_rows(
            secured, "select attnames from pg_publication_tables where pubname = %s and "
                     "schemaname = %s and tablename = %s",
            (s.publication_name, s.source_schema, table))
        assert set(published) == set(columns) - set(personal), table


def test_no_create_on_any_schema_or_the_database(secured: Secured) -> None:
    role = secured.settings.replication_user
    schemas = _owner_rows(secured, "select nspname from pg_namespace "
                                   "where nspname not like 'pg\\_%' escape '\\'")
    creatable = [s for (s,) in schemas if _owner_rows(
        secured, "select has_schema_privilege(%s, %s, 'CREATE')", (role, s))[0][0]]
    assert creatable == []
    [(on_db,)] = _owner_rows(
        secured, "select has_database_privilege(%s, current_database(), 'CREATE')", (role,))
    assert not on_db


def test_no_predefined_role_that_reads_or_writes_everything(secured: Secured) -> None:
    role = secured.settings.replication_user
    members = [r for r in POWERFUL_ROLES if _owner_rows(
        secured, "select pg_has_role(%s, %s, 'MEMBER')", (role, r))[0][0]]
    assert members == []
    [(bypass_rls, inherit_super)] = _owner_rows(
        secured, "select rolbypassrls, rolsuper from pg_roles where rolname = %s", (role,))
    assert not bypass_rls and not inherit_super


@pytest.mark.parametrize("statement", [
    "select pg_read_file('postgresql.conf')",
    "select * from pg_ls_dir('.')",
    "copy (select 1) to '/tmp/boxoffice-security-probe'",
    "copy (select 1) to program 'true'",
    "select usename, passwd from pg_shadow",
    "select rolpassword from pg_authid",
    "insert into {schema}.heartbeat (id, ts) values (2, now())",
    "delete from {schema}.heartbeat",
    "update {schema}.debezium_signal set type = 'x'",
    "delete from {schema}.debezium_signal",
    "alter table {schema}.tickets add column leak text",
    "select name from {schema}.people",
    "select * from {schema}.people",
])
def test_server_files_passwords_and_the_cdc_tables_are_refused(secured: Secured,
                                                                statement: str) -> None:
    conn = replication_connection(secured.settings)
    conn.autocommit = True
    try:
        with pytest.raises((errors.InsufficientPrivilege, psycopg2.errors.UndefinedFunction)), \
                conn.cursor() as cur:
            cur.execute(statement.format(schema=secured.settings.source_schema))
    finally:
        conn.close()
