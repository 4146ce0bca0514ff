"""Neither warehouse user reaches past ClickHouse's own tables (issue 16, item 1).

The embedded engine would let its user read `/etc/shadow` or the project's secrets with
`file()`, write files as whoever started the stack with `INSERT INTO FUNCTION file()`,
and reach PostgreSQL or any URL through table functions. A private embedded server (the
stack's command) with a writer and a reader (readonly = 1, as the stack configures it)
is sent a corpus of such statements; each must be refused with the ClickHouse code
named for it. The negative control runs the same file statements on the bare engine in a
process of its own and sees them succeed: the corpus is a real attack, and the refusal
comes from the engine's grants (`warehouse.users.WRITER_PRIVILEGES`).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.embedded_server import Server, start_server
from warehouse.embedded.users import User, hash_password
from warehouse.users import users_xml

ACCESS_DENIED = 497
READONLY = 164
SYNTAX_ERROR = 62
UNSUPPORTED_METHOD = 1
PATH_ACCESS_DENIED = 481
READER_PASSWORD = "reader-Password-1"

# (statement, code for the writer, code for the reader): the engine's own refusal, which
# for the reader is READONLY where readonly = 1 is checked before the grants. {port} is
# the server's own port (reachable), {written} a path the statement would create,
# {users} the server's users file.
CORPUS: list[tuple[str, int, int]] = [
    ("SELECT * FROM file('/etc/shadow', 'LineAsString')", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM file('{users}', 'LineAsString')", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM file('/etc/hostname')", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM `/etc/hostname`", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM 'etc/hostname'", ACCESS_DENIED, ACCESS_DENIED),
    ("INSERT INTO FUNCTION file('{written}', 'LineAsString') SELECT 'x'",
     ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM url('http://127.0.0.1:{port}/ping', 'LineAsString')",
     ACCESS_DENIED, ACCESS_DENIED),
    ("INSERT INTO FUNCTION url('http://127.0.0.1:{port}/', 'CSV', 'a String') SELECT 'x'",
     ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM postgresql('127.0.0.1:5432', 'postgres', 'pg_authid', 'postgres', '')",
     ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM mysql('127.0.0.1:3306', 'd', 't', 'u', 'p')", ACCESS_DENIED,
     ACCESS_DENIED),
    ("SELECT * FROM remote('127.0.0.1:{port}', system.one)", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM s3('http://127.0.0.1:{port}/bucket/x.csv', 'CSV')", ACCESS_DENIED,
     ACCESS_DENIED),
    ("SELECT * FROM hdfs('hdfs://127.0.0.1:9000/x', 'CSV')", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM sqlite('/etc/hostname', 't')", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM jdbc('x', 'y', 'z')", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM odbc('x', 'y', 'z')", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM azureBlobStorage('http://127.0.0.1:{port}', 'c', 'b')", ACCESS_DENIED,
     ACCESS_DENIED),
    ("SELECT * FROM mongodb('127.0.0.1:27017', 'd', 'c', 'u', 'p', 'x String')",
     ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM redis('127.0.0.1:6379', 'k', 'k String')", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM merge('system', '.*')", ACCESS_DENIED, ACCESS_DENIED),
    ("SELECT * FROM executable('cat', 'LineAsString', 'x String')", UNSUPPORTED_METHOD,
     READONLY),
    ("CREATE TABLE attack.f (l String) ENGINE = File(LineAsString, '/etc/hostname')",
     ACCESS_DENIED, READONLY),
    ("CREATE TABLE attack.u (l String) ENGINE = URL('http://127.0.0.1:{port}/', LineAsString)",
     ACCESS_DENIED, READONLY),
    ("CREATE TABLE attack.p (l String) ENGINE = PostgreSQL('127.0.0.1:5432', 'postgres', "
     "'pg_authid', 'postgres', '')", ACCESS_DENIED, READONLY),
    ("CREATE DICTIONARY attack.d (k UInt64, v String) PRIMARY KEY k "
     "SOURCE(FILE(path '/etc/hostname' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)",
     ACCESS_DENIED, READONLY),
    ("CREATE FUNCTION attack_fn AS (x) -> x + 1", ACCESS_DENIED, READONLY),
    ("ATTACH TABLE attack.a FROM '/etc' (x String) ENGINE = MergeTree ORDER BY x",
     PATH_ACCESS_DENIED, READONLY),
    ("BACKUP TABLE attack.t TO File('{written}')", ACCESS_DENIED, ACCESS_DENIED),
    ("SYSTEM SHUTDOWN", ACCESS_DENIED, ACCESS_DENIED),
    ("SYSTEM DROP DNS CACHE", ACCESS_DENIED, ACCESS_DENIED),
    ("SYSTEM STOP MERGES", ACCESS_DENIED, ACCESS_DENIED),
    ("CREATE USER attacker IDENTIFIED BY 'x'", ACCESS_DENIED, READONLY),
    ("SELECT * FROM system.users", ACCESS_DENIED, ACCESS_DENIED),
]
READER_ONLY: list[tuple[str, int]] = [
    ("KILL QUERY WHERE 1", READONLY),
    ("/* hidden */ KILL QUERY WHERE user != ''", READONLY),
    ("SET allow_ddl = 1", READONLY),
    ("DROP DICTIONARY IF EXISTS attack.nothing", READONLY),
    ("SELECT 1; SELECT * FROM file('/etc/hostname')", SYNTAX_ERROR),
    ("SELECT 1; KILL QUERY WHERE 1", SYNTAX_ERROR),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    reader = User("reader", hash_password(READER_PASSWORD), readonly=1,
                  settings={"max_execution_time": "30"})
    tmp = tmp_path_factory.mktemp("sources")
    for running in start_server(tmp, extra_users=(reader,)):
        requests.post(running.url, data="CREATE DATABASE IF NOT EXISTS attack",
                      auth=running.auth, timeout=30).raise_for_status()
        requests.post(running.url, auth=running.auth, timeout=30, data=(
            "CREATE TABLE IF NOT EXISTS attack.t (x UInt8) ENGINE = MergeTree ORDER BY x"
        )).raise_for_status()
        yield running


def refusal(server: Server, user: tuple[str, str], statement: str) -> int | None:
    response = requests.post(server.url, data=statement, auth=user, timeout=30)
    code = response.headers.get("X-ClickHouse-Exception-Code")
    return int(code) if code is not None else None


def render(statement: str, server: Server, tmp: Path) -> str:
    return statement.format(port=server.port, written=tmp / "written", users=server.users_file)


@pytest.mark.parametrize(("statement", "writer_code", "reader_code"), CORPUS,
                         ids=[s[:60] for s, _, _ in CORPUS])
def test_neither_user_reaches_files_hosts_or_processes(
        server: Server, tmp_path: Path, statement: str, writer_code: int,
        reader_code: int) -> None:
    sql = render(statement, server, tmp_path)
    assert refusal(server, server.auth, sql) == writer_code
    assert refusal(server, ("reader", READER_PASSWORD), sql) == reader_code
    assert not (tmp_path / "written").exists()
    assert server.process.poll() is None


@pytest.mark.parametrize(("statement", "code"), READER_ONLY)
def test_the_reader_cannot_kill_set_or_chain_statements(server: Server, statement: str,
                                                    code: int) -> None:
    assert refusal(server, ("reader", READER_PASSWORD), statement) == code


def test_the_users_still_do_their_jobs(server: Server) -> None:
    """Positive control: the grants leave the sink's, migration's and reader's work."""
    writer, reader = server.auth, ("reader", READER_PASSWORD)
    for statement in (
        "INSERT INTO attack.t SETTINGS insert_deduplication_token = 'a' VALUES (1)",
        "ALTER TABLE attack.t ADD INDEX IF NOT EXISTS ix x TYPE minmax GRANULARITY 1",
        "CREATE OR REPLACE VIEW attack.v AS SELECT x FROM attack.t",
        "CREATE TABLE IF NOT EXISTS attack.s (x UInt8) ENGINE = MergeTree ORDER BY x",
        "EXCHANGE TABLES attack.t AND attack.s",
        "EXCHANGE TABLES attack.t AND attack.s",
        "OPTIMIZE TABLE attack.t FINAL",
        "SELECT count() FROM numbers(10)",
    ):
        assert refusal(server, writer, statement) is None, statement
    for statement in ("SELECT count() FROM attack.v", "SHOW TABLES FROM attack",
                      "SELECT count() FROM system.parts"):
        assert refusal(server, reader, statement) is None, statement


_BARE_ENGINE = """
import sys, chdb
connection = chdb.connect(sys.argv[1])
print(connection.query("SELECT * FROM file('/etc/hostname', 'LineAsString')", "TSV").bytes()
      .decode().strip())
connection.query(f"INSERT INTO FUNCTION file('{sys.argv[2]}', 'LineAsString') SELECT 'x'")
"""


def test_the_bare_engine_runs_the_same_statements(tmp_path: Path) -> None:
    """Negative control: without the grants the engine reads and writes host files."""
    written = tmp_path / "written"
    done = subprocess.run([sys.executable, "-c", _BARE_ENGINE, str(tmp_path / "chdb"),
                           str(written)], capture_output=True, text=True, check=True,
                          timeout=120)
    assert done.stdout.strip().splitlines()[-1] == Path("/etc/hostname").read_text().strip()
    assert written.read_text().strip() == "x"


def test_a_real_servers_users_carry_the_same_grants() -> None:
    """The users.xml of a real ClickHouse server: without a grants list a user has every
    privilege, file and url included."""
    from tests.providers import test_settings

    xml = users_xml(test_settings(Path("/nonexistent-state")))
    assert xml.count("<grants>") == 2
    for forbidden in ("SOURCES", "FILE", "URL", "SYSTEM", "DICTIONARY", "ALL"):
        assert forbidden not in xml.split("<grants>", 1)[1]
    assert "allow_databases" not in xml
