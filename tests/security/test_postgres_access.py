"""PostgreSQL admits nobody without a password and the CDC role copies nothing whole
(issue 16, item 4), on the session's own server.

The checks go through the server, not only its files: a local user who is not the
service user cannot reach the socket; over the socket, no password means no session;
pg_basebackup as the CDC role (which holds REPLICATION, as logical decoding needs) is
refused by pg_hba. The negative control adds the `host replication` line initdb writes
by default, reloads, and sees a physical replication connection of the same role
accepted, then takes it out again: the refusal is the configuration's doing.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from psycopg2.extras import PhysicalReplicationConnection

from boxoffice.stack.components.postgres import SERVICE_USER, Postgres
from boxoffice.stack.traverse import ACL_XATTR, can_traverse
from contracts.settings import Settings
from tests.providers import test_settings as throwaway_settings
from tests.security.conftest import Secured

OUTSIDER = "nobody"


@pytest.fixture(scope="module")
def server(postgres: Settings) -> Postgres:
    """The session's PostgreSQL component (its data and socket directories)."""
    return Postgres(settings=postgres)


def replication_password(settings: Settings) -> str:
    return settings.secret("replication_password")


def test_no_line_trusts_and_none_admits_physical_replication(server: Postgres) -> None:
    lines = [line.split() for line in (server.data_dir / "pg_hba.conf").read_text()
             .splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines, "pg_hba.conf admits nobody"
    assert all(fields[-1] == "scram-sha-256" for fields in lines), lines
    assert all(fields[1] != "replication" for fields in lines), lines


def test_the_socket_directory_is_the_service_users_alone(server: Postgres) -> None:
    mode = server.socket_dir.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o700
    if os.geteuid() == 0:
        assert pwd.getpwuid(mode.st_uid).pw_name == SERVICE_USER


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another local user")
def test_another_local_user_cannot_reach_the_socket(server: Postgres,
                                                    secured: Secured) -> None:
    settings = secured.settings
    psql = server.bin_dir / "psql"
    done = subprocess.run(
        [str(psql), "-h", str(server.socket_dir), "-p", str(settings.postgres_port),
         "-U", settings.postgres_user, "-w", "-d", "postgres", "-c", "select 1"],
        user=OUTSIDER, capture_output=True, text=True, cwd="/", timeout=30)
    assert done.returncode != 0
    assert "Permission denied" in done.stderr, done.stderr


def test_the_socket_wants_a_password(server: Postgres, secured: Secured) -> None:
    settings = secured.settings
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(host=str(server.socket_dir), port=settings.postgres_port,
                         user=settings.postgres_user, dbname="postgres", password="",
                         connect_timeout=5)
    ok = psycopg2.connect(host=str(server.socket_dir), port=settings.postgres_port,
                          user=settings.postgres_user, dbname="postgres",
                          password=settings.secret("postgres_password"), connect_timeout=5)
    ok.close()  # positive control: the socket works with the password


def test_pg_basebackup_as_the_cdc_role_is_refused(server: Postgres, secured: Secured,
                                                  tmp_path: Path) -> None:
    settings = secured.settings
    done = subprocess.run(
        [str(server.bin_dir / "pg_basebackup"), "-h", settings.bind_host,
         "-p", str(settings.postgres_port), "-U", settings.replication_user,
         "-D", str(tmp_path / "copy"), "-X", "none", "-w"],
        env={**os.environ, "PGPASSWORD": replication_password(settings)},
        capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "no pg_hba.conf entry for replication connection" in done.stderr, done.stderr
    copy = tmp_path / "copy"
    assert not copy.exists() or not any(copy.iterdir())


def physical_replication_accepted(settings: Settings) -> bool:
    try:
        connection = psycopg2.connect(
            host=settings.bind_host, port=settings.postgres_port,
            user=settings.replication_user, password=replication_password(settings),
            connection_factory=PhysicalReplicationConnection, connect_timeout=5)
    except psycopg2.OperationalError as refused:
        assert "no pg_hba.conf entry for replication connection" in str(refused)
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("IDENTIFY_SYSTEM")
            return cursor.fetchone() is not None
    finally:
        connection.close()


def reload_config(server: Postgres) -> None:
    admin = server.admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute("select pg_reload_conf()")
    finally:
        admin.close()


@pytest.fixture
def with_initdbs_replication_line(server: Postgres) -> Iterator[None]:
    hba = server.data_dir / "pg_hba.conf"
    written = hba.read_text()
    try:
        hba.write_text(written + "host replication all 127.0.0.1/32 scram-sha-256\n")
        reload_config(server)
        yield
    finally:
        hba.write_text(written)
        reload_config(server)


def test_negative_control_the_default_replication_line_would_admit_the_role(
        secured: Secured, with_initdbs_replication_line: None) -> None:
    settings = secured.settings
    if settings.bind_host != "127.0.0.1":
        pytest.skip("the control's pg_hba line is for 127.0.0.1")
    assert physical_replication_accepted(settings)


def test_physical_replication_is_refused_again(secured: Secured) -> None:
    assert not physical_replication_accepted(secured.settings)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run initdb as the service user")
def test_the_data_directory_is_reached_without_opening_its_parents(tmp_path: Path) -> None:
    """A state directory under a 0700 parent (a clone under /root): initdb, run as the
    service user, gets there through an ACL entry for that user alone; the parent stays
    closed to every other user. Negative control: with the entry removed, the service
    user cannot reach the data directory either."""
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    tmp_path.chmod(0o700)
    component = Postgres(settings=throwaway_settings(private / "clone" / ".boxoffice"))
    component.prepare()  # initdb as the service user: fails if it cannot walk down
    assert (component.data_dir / "PG_VERSION").exists()
    for parent in (tmp_path, private):
        assert not parent.stat().st_mode & 0o001, f"{parent} was opened to others"
    assert not _reachable_as(OUTSIDER, component.data_dir.parent)
    service = pwd.getpwnam(SERVICE_USER)
    assert can_traverse(private, service.pw_uid, service.pw_gid)
    assert _reachable_as(SERVICE_USER, component.data_dir)

    os.removexattr(private, ACL_XATTR)
    assert not _reachable_as(SERVICE_USER, component.data_dir), "the control: no ACL, no way"


def _reachable_as(user: str, directory: Path) -> bool:
    return subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(directory)],
                          check=False).returncode == 0
