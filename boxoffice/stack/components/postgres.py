"""PostgreSQL from Debian's packages, in its own data directory, ready for logical decoding.

PostgreSQL refuses to run as root, so when boxoffice runs as root (CI does) the server
runs as the ``postgres`` OS user that the Debian package creates, and the data directory
is handed to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg2

from boxoffice.errors import ComponentError
from boxoffice.stack.component import Component, LaunchSpec, Progress
from boxoffice.stack.install import apt_install
from boxoffice.stack.traverse import TraverseError, allow_traverse

SERVICE_USER = "postgres"
HBA_CONF = """\
# Written by boxoffice on every start (boxoffice/stack/components/postgres.py).
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""


class Postgres(Component):
    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: SIGTERM would wait for every client

    @property
    def ports(self) -> dict[str, int]:
        return {"postgres": self.settings.postgres_port}

    @property
    def bin_dir(self) -> Path:
        return Path(f"/usr/lib/postgresql/{self.settings.postgres_major}/bin")

    @property
    def socket_dir(self) -> Path:
        return self.settings.run_dir / "postgres-socket"

    def _run_as(self) -> str | None:
        return SERVICE_USER if os.geteuid() == 0 else None

    def install(self, progress: Progress) -> None:
        if (self.bin_dir / "postgres").exists():
            return
        major = self.settings.postgres_major
        progress(f"postgres: installing postgresql-{major} from Debian packages")
        apt_install([f"postgresql-{major}", f"postgresql-client-{major}"], component=self.name)

    def prepare(self) -> None:
        user = self._run_as()
        for path in (self.data_dir, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            if user:
                entry = pwd.getpwnam(user)
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(self.data_dir, 0o700)
        os.chmod(self.socket_dir, 0o700)  # a local user reaches no socket to try
        if user:  # it must walk down to its data directory; nobody else is let in
            entry = pwd.getpwnam(user)
            try:
                allow_traverse(self.data_dir, entry.pw_uid, entry.pw_gid)
            except TraverseError as exc:
                raise ComponentError(self.name, str(exc)) from exc
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(user)
        self._write_hba()

    def _write_hba(self) -> None:
        """Every connection authenticates with a password (the socket too), and no line
        admits a physical replication connection: logical decoding connects to a named
        database, which `all` covers, while `replication` lines would let the CDC role,
        which holds REPLICATION, copy the whole cluster with pg_basebackup. Written on
        every start, so an installation made with other lines converges."""
        hba = self.data_dir / "pg_hba.conf"
        stat = hba.stat()
        hba.write_text(HBA_CONF)
        os.chown(hba, stat.st_uid, stat.st_gid)
        os.chmod(hba, 0o600)

    def _initdb(self, user: str | None) -> None:
        with tempfile.NamedTemporaryFile("w", delete=False, suffix=".pw") as pwfile:
            pwfile.write(self.settings.secret("postgres_password"))
        try:
            if user:
                entry = pwd.getpwnam(user)
                os.chown(pwfile.name, entry.pw_uid, entry.pw_gid)
            result = subprocess.run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D", str(self.data_dir),
                    "-U", self.settings.postgres_user,
                    "--pwfile", pwfile.name,
                    "--auth-host", "scram-sha-256",
                    "--auth-local", "scram-sha-256",
                    "-E", "UTF8",
                    "--locale", "C",
                ],
                capture_output=True,
                text=True,
                user=user,
                group=pwd.getpwnam(user).pw_gid if user else None,
                extra_groups=[] if user else None,
                cwd="/",
            )
        finally:
            os.unlink(pwfile.name)
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise ComponentError(
                self.name, "initdb failed", log_tail=(result.stdout + result.stderr)[-2000:]
            )

    def launch_spec(self) -> LaunchSpec:
        s = self.settings
        options = {
            "port": str(s.postgres_port),
            "listen_addresses": s.bind_host,
            "unix_socket_directories": str(self.socket_dir),
            "wal_level": "logical",
            "max_wal_senders": "10",
            "max_replication_slots": "10",
            "max_slot_wal_keep_size": s.postgres_max_slot_wal_keep_size,
            "shared_buffers": "256MB",
            "fsync": "on",
            "synchronous_commit": "on",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        for key, value in options.items():
            argv += ["-c", f"{key}={value}"]
        return LaunchSpec(argv=argv, run_as=self._run_as(), cwd=Path("/"))

    def admin_connection(self, dbname: str = "postgres") -> psycopg2.extensions.connection:
        s = self.settings
        return psycopg2.connect(
            host=s.bind_host,
            port=s.postgres_port,
            dbname=dbname,
            user=s.postgres_user,
            password=s.secret("postgres_password"),
            connect_timeout=2,
        )

    def is_healthy(self) -> bool:
        try:
            with self.admin_connection() as conn, conn.cursor() as cur:
                cur.execute("select 1")
            conn.close()
            return True
        except psycopg2.Error:
            return False

    def after_healthy(self) -> None:
        conn = self.admin_connection()
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("select 1 from pg_database where datname = %s",
                            (self.settings.postgres_db,))
                if cur.fetchone() is None:
                    cur.execute(f'create database "{self.settings.postgres_db}"')
        finally:
            conn.close()
