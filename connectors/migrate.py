"""Idempotent source migration: schema files, the replication role, its grants, the publication.

Personal columns (`contracts.tables.PERSONAL_COLUMNS`) are neither granted to the role nor
published: the connector cannot read them in a snapshot nor receive them from the WAL.

Run as the database owner (settings.postgres_user). Every step may run again: tables use
IF NOT EXISTS, the role's password is reset to the current secret, grants are revoked and
granted again, and the publication's table list is set rather than appended to. An
advisory lock keeps two concurrent runs from interleaving.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from psycopg2 import sql
from psycopg2.extensions import cursor as Cursor

from connectors.db import connect
from contracts.settings import Settings
from contracts.tables import PERSONAL_COLUMNS, PUBLISHED_TABLES

_LOCK_KEY = 0x0B0C_5EED  # pg_advisory_xact_lock key shared by every migration run


def schema_files() -> list[tuple[str, str]]:
    """(name, text) of connectors/schema/*.sql in the order they must run."""
    folder = resources.files("connectors") / "schema"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, (folder / name).read_text()) for name in names]


def render(text: str, schema: str) -> str:
    """Put the quoted schema name where the files say `{schema}`."""
    quoted = '"' + schema.replace('"', '""') + '"'
    return text.replace("{schema}", quoted)


def migrate(settings: Settings, progress: Callable[[str], None] | None = None) -> None:
    """Bring the source database to the current schema, role grants and publication."""
    say = progress or (lambda _line: None)
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            for name, text in schema_files():
                say(f"source: applying {name}")
                cur.execute(render(text, settings.source_schema))
            say(f"source: replication role {settings.replication_user}")
            _replication_role(cur, settings)
            say(f"source: publication {settings.publication_name}")
            _publication(cur, settings)
    finally:
        conn.close()


def _tables(settings: Settings, names: tuple[str, ...]) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.Identifier(settings.source_schema, name) for name in names
    )


def _replication_role(cur: Cursor, settings: Settings) -> None:
    """The connector's role: REPLICATION, SELECT on published tables, two narrow writes.

    The exceptions to "no write": UPDATE on the one-row heartbeat table (Debezium's
    heartbeat.action.query runs on the connector's connection) and INSERT on the signal
    table (the incremental snapshot writes its window watermarks there). Neither table
    holds business data.
    """
    role = sql.Identifier(settings.replication_user)
    schema = sql.Identifier(settings.source_schema)
    password = settings.secret("replication_password")
    execute = cur.execute
    execute("select 1 from pg_roles where rolname = %s", (settings.replication_user,))
    if cur.fetchone() is None:
        execute(sql.SQL("create role {} login replication").format(role))
    execute(
        sql.SQL("alter role {} with login replication nosuperuser nocreatedb nocreaterole "
                "nobypassrls password {}").format(role, sql.Literal(password))
    )
    execute(sql.SQL("revoke all on all tables in schema {} from {}").format(schema, role))
    execute(sql.SQL("revoke create on schema {} from {}").format(schema, role))
    execute(sql.SQL("grant usage on schema {} to {}").format(schema, role))
    whole = tuple(t for t in PUBLISHED_TABLES if t not in PERSONAL_COLUMNS)
    execute(sql.SQL("grant select on {} to {}").format(_tables(settings, whole), role))
    for table in PERSONAL_COLUMNS:
        execute(sql.SQL("grant select ({}) on {} to {}").format(
            _column_list(_shareable_columns(cur, settings, table)),
            sql.Identifier(settings.source_schema, table), role))
    execute(sql.SQL("grant update on {} to {}").format(
        sql.Identifier(settings.source_schema, "heartbeat"), role))
    execute(sql.SQL("grant insert on {} to {}").format(
        sql.Identifier(settings.source_schema, "debezium_signal"), role))


def _shareable_columns(cur: Cursor, settings: Settings, table: str) -> list[str]:
    """The table's columns except its personal ones, in table order."""
    cur.execute("select column_name from information_schema.columns where table_schema = %s "
                "and table_name = %s order by ordinal_position", (settings.source_schema, table))
    return [c for (c,) in cur.fetchall() if c not in PERSONAL_COLUMNS.get(table, ())]


def _column_list(columns: list[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def _published(cur: Cursor, settings: Settings) -> sql.Composable:
    """The publication's table list: tables with personal columns get a column list
    without them (PostgreSQL 15), so those values are never decoded from the WAL."""
    items: list[sql.Composable] = []
    for table in PUBLISHED_TABLES:
        item = sql.Identifier(settings.source_schema, table)
        if table in PERSONAL_COLUMNS:
            item = sql.SQL("{} ({})").format(
                item, _column_list(_shareable_columns(cur, settings, table)))
        items.append(item)
    return sql.SQL(", ").join(items)


def _publication(cur: Cursor, settings: Settings) -> None:
    """Create the publication for exactly the published tables and columns, or reset its
    table list."""
    execute = cur.execute
    name = sql.Identifier(settings.publication_name)
    tables = _published(cur, settings)
    execute("select 1 from pg_publication where pubname = %s", (settings.publication_name,))
    if cur.fetchone() is None:
        execute(sql.SQL("create publication {} for table {}").format(name, tables))
    else:
        execute(sql.SQL("alter publication {} set table {}").format(name, tables))
