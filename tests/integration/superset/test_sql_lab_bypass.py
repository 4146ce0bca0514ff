"""SQL Lab cannot be talked into writing, reconfiguring or reaching out (issue 16, item 7).

Superset refuses what its parser sees as DML (the database has `allow_dml = False`) and,
since Superset 6 (sqlglot), what its parser cannot read at all; what it lets through
reaches ClickHouse as the read-only reader, whose own refusal comes back. Each statement
of the corpus is sent both ways, through Superset's SQL Lab API and directly as the
reader, and each must be refused with the refusal named for it: the reader's ClickHouse
code, and through Superset its DML check, its parse error or that same code.
The tables are intact afterwards. The positive control runs a plain SELECT both ways.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from boxoffice.bi.bootstrap import BootstrapResult
from boxoffice.bi.client import SupersetClient
from contracts.settings import Settings
from tests.integration.superset.festival_data import Festival
from tests.integration.superset.sql_lab import execute
from warehouse.executor import connect

READONLY = 164
ACCESS_DENIED = 497
SYNTAX_ERROR = 62
UNSUPPORTED_METHOD = 1
DML = "DML_NOT_ALLOWED_ERROR"
UNPARSED = "INVALID_SQL_ERROR"  # Superset 6 refuses what its parser cannot read
FACTS = "{db}.fact_ticket_sales"

# (statement, the reader's ClickHouse code, what Superset answers: its DML check, its
# parse error, or the ClickHouse code of the refusal it passes on, for what its parser
# reads but does not see as DML)
CORPUS: list[tuple[str, int, str]] = [
    # DML and DDL inside CTEs, behind comments, as multi-statements
    (f"WITH x AS (SELECT 1) INSERT INTO {FACTS} (ticket_id, sign) SELECT 1, 1", READONLY,
     DML),
    (f"/* just a select */ INSERT INTO {FACTS} (ticket_id, sign) VALUES (1, 1)", READONLY,
     DML),
    (f"-- harmless\nDROP TABLE {FACTS}", READONLY, DML),
    (f"/* SELECT */ ALTER TABLE {FACTS} DELETE WHERE 1", READONLY, DML),
    (f"SELECT 1; INSERT INTO {FACTS} (ticket_id, sign) VALUES (1, 1)", SYNTAX_ERROR, DML),
    (f"SELECT 1; DROP TABLE {FACTS}", SYNTAX_ERROR, DML),
    ("SELECT 1; SET readonly = 0", SYNTAX_ERROR, "164"),  # Superset runs them one by one
    (f"INSERT INTO {FACTS} (ticket_id, sign) VALUES (1, 1)", READONLY, DML),
    (f"DELETE FROM {FACTS} WHERE 1", READONLY, DML),
    (f"ALTER TABLE {FACTS} UPDATE sign = 0 WHERE 1", READONLY, DML),
    (f"TRUNCATE TABLE {FACTS}", READONLY, DML),
    (f"RENAME TABLE {FACTS} TO {{db}}.gone", READONLY, "164"),
    (f"EXCHANGE TABLES {FACTS} AND {{db}}.ticket_sales_current", READONLY, "164"),
    ("CREATE TABLE {db}.sneaky (x UInt8) ENGINE = Memory", READONLY, DML),
    ("CREATE TEMPORARY TABLE sneaky (x UInt8) ENGINE = Memory", READONLY, DML),
    ("CREATE DATABASE sneaky", READONLY, DML),
    ("DROP VIEW {db}.ticket_sales", READONLY, DML),
    ("UNDROP TABLE {db}.gone", READONLY, UNPARSED),
    # SETTINGS overrides
    ("SELECT 1 SETTINGS readonly = 0", READONLY, UNPARSED),
    ("SELECT 1 SETTINGS max_execution_time = 0", READONLY, UNPARSED),
    # Superset 6 puts its row LIMIT before the SETTINGS clause, so the reader refuses it
    (f"SELECT count() FROM {FACTS} SETTINGS max_threads = 64", READONLY, "164"),
    ("SET readonly = 0", READONLY, "164"),
    ("SET max_execution_time = 0", READONLY, "164"),
    ("SET allow_ddl = 1", READONLY, "164"),
    # SYSTEM, KILL, OPTIMIZE, ATTACH/DETACH, dictionary DDL
    ("SYSTEM SHUTDOWN", ACCESS_DENIED, "497"),
    ("SYSTEM STOP MERGES", ACCESS_DENIED, "497"),
    ("SYSTEM DROP MARK CACHE", ACCESS_DENIED, "497"),
    ("SYSTEM FLUSH LOGS", ACCESS_DENIED, "497"),
    ("KILL QUERY WHERE 1", READONLY, UNPARSED),
    ("KILL MUTATION WHERE 1", READONLY, UNPARSED),
    (f"OPTIMIZE TABLE {FACTS} FINAL", READONLY, "164"),
    (f"DETACH TABLE {FACTS}", READONLY, UNPARSED),
    ("DETACH DATABASE {db}", READONLY, UNPARSED),
    ("ATTACH TABLE {db}.stolen FROM '/etc' (x String) ENGINE = MergeTree ORDER BY x",
     READONLY, "164"),
    ("CREATE DICTIONARY {db}.d (k UInt64, v String) PRIMARY KEY k "
     "SOURCE(FILE(path '/etc/hostname' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)",
     READONLY, DML),
    ("DROP DICTIONARY IF EXISTS {db}.d", READONLY, DML),
    # table functions and INSERT INTO FUNCTION
    ("SELECT * FROM file('/etc/passwd', 'LineAsString')", ACCESS_DENIED, "497"),
    ("SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')", ACCESS_DENIED, "497"),
    ("SELECT * FROM postgresql('127.0.0.1:5432', 'postgres', 'pg_authid', 'postgres', '')",
     ACCESS_DENIED, "497"),
    ("SELECT * FROM remote('127.0.0.1:9000', system.one)", ACCESS_DENIED, "497"),
    ("SELECT * FROM s3('http://127.0.0.1:1/bucket/x.csv', 'CSV')", ACCESS_DENIED, "497"),
    ("SELECT * FROM executable('cat', 'LineAsString', 'x String')", READONLY, "164"),
    ("INSERT INTO FUNCTION file('/tmp/boxoffice-sqllab', 'LineAsString') SELECT 'x'",
     ACCESS_DENIED, DML),
    ("INSERT INTO FUNCTION url('http://127.0.0.1:1/', 'CSV', 'a String') SELECT 'x'",
     ACCESS_DENIED, DML),
]


@pytest.fixture(scope="module")
def reader(superset: Settings, festival: Festival) -> Iterator[Client]:
    """The reader on the warehouse database `festival` migrated and filled."""
    client = connect(superset, reader=True, database=superset.clickhouse_database)
    yield client
    client.close()


def reader_code(reader: Client, sql: str) -> int | None:
    try:
        reader.command(sql)
    except DatabaseError as refused:
        match = re.search(r"Code: (\d+)", str(refused))
        return int(match.group(1)) if match else -1
    return None


def superset_refusal(response: requests.Response) -> str | None:
    """DML_NOT_ALLOWED_ERROR, INVALID_SQL_ERROR, or the ClickHouse code in the engine
    error; None if run."""
    if response.status_code == 200 and response.json().get("status") == "success":
        return None
    errors = response.json().get("errors") or [{}]
    if errors[0].get("error_type") in (DML, UNPARSED):
        return str(errors[0]["error_type"])
    match = re.search(r"Code: (\d+)", response.text)
    return match.group(1) if match else response.text[:300]


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40


@pytest.mark.parametrize(("statement", "code", "through_superset"), CORPUS,
                         ids=[s[:50] for s, _, _ in CORPUS])
def test_refused_through_sql_lab_and_as_the_reader(
        superset: Settings, bootstrapped: BootstrapResult, admin: SupersetClient,
        reader: Client, statement: str, code: int, through_superset: str) -> None:
    db = superset.clickhouse_database
    sql = statement.format(db=db)
    assert reader_code(reader, sql) == code
    response = execute(admin, bootstrapped.database_id, sql, db)
    assert superset_refusal(response) == through_superset


def test_the_tables_are_intact_and_plain_reads_work(
        superset: Settings, bootstrapped: BootstrapResult, admin: SupersetClient,
        reader: Client) -> None:
    db = superset.clickhouse_database
    tables = {name for (name,) in reader.query(
        f"SELECT name FROM system.tables WHERE database = '{db}'").result_rows}
    assert {"fact_ticket_sales", "ticket_sales_current", "ticket_sales"} <= tables
    assert not {"gone", "sneaky", "stolen", "d"} & tables
    assert reader.command("SELECT 40 + 2") == 42
    response = execute(admin, bootstrapped.database_id, "SELECT 40 + 2 AS answer", db)
    assert superset_refusal(response) is None
