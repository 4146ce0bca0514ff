"""The warehouse's two users: the sink's writer and Superset's read-only reader.

The reader is read-only at the server (readonly = 1: no INSERT, ALTER, DROP and no
changing settings, whatever Superset sends), its queries are cut at
`READER_MAX_EXECUTION_SECONDS`, and a quota (`reader_quota`) bounds what it can ask for
per hour. The same policy is rendered two ways: SQL (`CREATE USER ...`) for a ClickHouse
server with access management, and a users.xml fragment for a server configured by files
(the embedded server's component writes its users file from `reader_profile()` and
`reader_quota()`).
"""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

from contracts.settings import Settings

READER_MAX_EXECUTION_SECONDS = 30
WRITER_PRIVILEGES = ("SELECT", "INSERT", "ALTER", "CREATE DATABASE", "CREATE TABLE",
                     "CREATE VIEW", "DROP DATABASE", "DROP TABLE", "DROP VIEW", "TRUNCATE",
                     "OPTIMIZE", "SHOW")
"""What the sink, the migrations and replay need, and nothing that reaches past the
database server's own tables: no SOURCES (the file, url, remote, postgresql, mysql, s3,
hdfs, ... table functions and engines, and `INSERT INTO FUNCTION`), no SYSTEM, no
dictionaries or functions (a dictionary's source reads files and URLs), no access
management. A ClickHouse user without a `grants` list has all of these."""
QUOTA_SECONDS = 3600
"""The quota's interval: one hour, as `clickhouse_reader_queries_per_hour` counts."""


def reader_quota(settings: Settings) -> dict[str, int]:
    """The reader's allowance per hour.

    The query count is sized for dashboards, not for a guess: the live dashboard refreshes
    seven charts every 10 s, about 2,500 queries an hour per open screen, so a fixed
    10,000 would go dark with four screens open (or under a test's 20 Hz dashboard
    reader). The setting's default leaves room for tens of screens; execution time and
    rows read remain the ceiling for a runaway SQL Lab loop.
    """
    return {"duration_seconds": QUOTA_SECONDS,
            "queries": settings.clickhouse_reader_queries_per_hour,
            "result_rows": 1_000_000_000, "read_rows": 100_000_000_000,
            "execution_time": QUOTA_SECONDS}


def reader_profile() -> dict[str, int]:
    """Settings the reader runs with and cannot change."""
    return {"readonly": 1, "max_execution_time": READER_MAX_EXECUTION_SECONDS}


def _sha256(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def create_user_statements(settings: Settings) -> list[str]:
    """SQL for a server with SQL access management; idempotent (OR REPLACE)."""
    db = settings.clickhouse_database
    writer, reader = settings.clickhouse_user, settings.clickhouse_reader_user
    quota = reader_quota(settings)
    return [
        f"CREATE USER OR REPLACE {writer} IDENTIFIED WITH sha256_hash BY "
        f"'{_sha256(settings.secret('clickhouse_password'))}'",
        f"{writer_grant(f'{db}.*')} TO {writer}",
        f"CREATE SETTINGS PROFILE OR REPLACE {reader}_profile SETTINGS "
        f"readonly = 1 CONST, max_execution_time = {READER_MAX_EXECUTION_SECONDS} CONST",
        f"CREATE USER OR REPLACE {reader} IDENTIFIED WITH sha256_hash BY "
        f"'{_sha256(settings.secret('clickhouse_reader_password'))}' "
        f"SETTINGS PROFILE '{reader}_profile'",
        f"GRANT SELECT ON {db}.* TO {reader}",
        f"CREATE QUOTA OR REPLACE {reader}_quota FOR INTERVAL "
        f"{quota['duration_seconds']} SECOND MAX queries = {quota['queries']}, "
        f"result_rows = {quota['result_rows']}, read_rows = {quota['read_rows']}, "
        f"execution_time = {quota['execution_time']} TO {reader}",
    ]


def writer_grant(on: str) -> str:
    return f"GRANT {', '.join(WRITER_PRIVILEGES)} ON {on}"


def engine_users_xml() -> str:
    """The embedded engine's users file. The engine runs every query as its user
    `default` (the server's users exist only in the HTTP layer), so `default` gets the
    writer's privileges and nothing else; the reader is held by readonly = 1 on top."""
    return f"""<clickhouse>
  <profiles><default/></profiles>
  <quotas><default/></quotas>
  <users>
    <default>
      <password></password>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <grants><query>{writer_grant("*.*")}</query></grants>
    </default>
  </users>
</clickhouse>
"""


def users_xml(settings: Settings) -> str:
    """A users.xml for a server configured by files (users_config)."""
    db = escape(settings.clickhouse_database)
    writer, reader = escape(settings.clickhouse_user), escape(settings.clickhouse_reader_user)
    quota = reader_quota(settings)
    return f"""<clickhouse>
  <profiles>
    <default/>
    <reader>
      <readonly>1</readonly>
      <max_execution_time>{READER_MAX_EXECUTION_SECONDS}</max_execution_time>
    </reader>
  </profiles>
  <quotas>
    <default/>
    <reader>
      <interval>
        <duration>{quota['duration_seconds']}</duration>
        <queries>{quota['queries']}</queries>
        <result_rows>{quota['result_rows']}</result_rows>
        <read_rows>{quota['read_rows']}</read_rows>
        <execution_time>{quota['execution_time']}</execution_time>
      </interval>
    </reader>
  </quotas>
  <users>
    <{writer}>
      <password_sha256_hex>{_sha256(settings.secret('clickhouse_password'))}</password_sha256_hex>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <grants><query>{writer_grant("*.*")}</query></grants>
    </{writer}>
    <{reader}>
      <password_sha256_hex>{_sha256(settings.secret('clickhouse_reader_password'))}</password_sha256_hex>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>reader</profile>
      <quota>reader</quota>
      <grants><query>GRANT SELECT ON {db}.*</query></grants>
    </{reader}>
  </users>
</clickhouse>
"""
