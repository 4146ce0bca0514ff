"""The read-only role verify connects as (settings.verify_user).

The source migration (connectors/) does not create it, so verify creates it itself, as
the database owner, the first time it is missing or lacks its grants. Idempotent: the
password is reset to the current secret and SELECT is granted again on the business
tables, nothing else. The role's sessions default to read-only transactions too.
"""

from __future__ import annotations

from psycopg2 import sql

from connectors.db import connect
from contracts.settings import Settings
from contracts.tables import BUSINESS_TABLES

CONNECTION_LIMIT = 4
_LOCK_KEY = 0x0B0C_5E1F  # pg_advisory_xact_lock key of this setup


def ensure_verify_role(settings: Settings) -> None:
    """Create or repair the verify role: LOGIN, SELECT on the festival tables only."""
    role = sql.Identifier(settings.verify_user)
    schema = sql.Identifier(settings.source_schema)
    tables = sql.SQL(", ").join(sql.Identifier(settings.source_schema, t)
                                for t in BUSINESS_TABLES)
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute("select 1 from pg_roles where rolname = %s", (settings.verify_user,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("create role {} login").format(role))
            cur.execute(sql.SQL(
                "alter role {} with login nosuperuser nocreatedb nocreaterole noreplication "
                "nobypassrls connection limit {} password {}").format(
                    role, sql.Literal(CONNECTION_LIMIT),
                    sql.Literal(settings.secret("verify_password"))))
            cur.execute(sql.SQL("alter role {} set default_transaction_read_only = on")
                        .format(role))
            cur.execute(sql.SQL("grant connect on database {} to {}").format(
                sql.Identifier(settings.postgres_db), role))
            cur.execute(sql.SQL("revoke all on all tables in schema {} from {}")
                        .format(schema, role))
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(schema, role))
            cur.execute(sql.SQL("grant select on {} to {}").format(tables, role))
    finally:
        conn.close()
