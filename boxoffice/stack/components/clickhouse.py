"""ClickHouse: a real ``clickhouse server`` when one is installed, else the embedded server.

The embedded server (``python -m warehouse.embedded``) runs the real ClickHouse engine
through chdb behind ClickHouse's HTTP interface, so a machine without Docker or a
ClickHouse install still runs the same SQL. Both modes get the same two users from
Settings (the sink's writer and Superset's read-only reader, policy in warehouse.users)
and keep their data in separate directories, so switching modes never mixes them.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from xml.sax.saxutils import escape

from boxoffice.errors import ComponentError
from boxoffice.stack.component import Component, LaunchSpec, Progress
from contracts.settings import REPO_ROOT
from warehouse.embedded.users import Quota, User, hash_password, write_users_file
from warehouse.users import reader_profile, reader_quota, users_xml

PROBE_TIMEOUT_SECONDS = 1.5
DDL_TIMEOUT_SECONDS = 30.0


class ClickHouse(Component):
    name = "clickhouse"

    # --- mode -----------------------------------------------------------------------------
    def binary(self) -> str | None:
        """The clickhouse binary to run, or None for the embedded server."""
        if self.settings.clickhouse_prefer_embedded:
            return None
        return shutil.which(self.settings.clickhouse_binary)

    @property
    def ports(self) -> dict[str, int]:
        ports = {"http": self.settings.clickhouse_http_port}
        if self.binary():
            ports["tcp"] = self.settings.clickhouse_tcp_port
        return ports

    @property
    def users_file(self) -> Path:
        return self.data_dir / "embedded-users.json"

    @property
    def server_dir(self) -> Path:
        return self.data_dir / "server"

    # --- lifecycle ------------------------------------------------------------------------
    def install(self, progress: Progress) -> None:
        if self.binary():
            return
        # Only look for the engine: importing it here would boot one in this process.
        if importlib.util.find_spec("chdb") is None:
            raise ComponentError(
                self.name,
                f"no '{self.settings.clickhouse_binary}' binary on PATH and the embedded "
                "engine (the chdb package) is not installed; install the project's "
                "dependencies (pip install -e .) or a ClickHouse server",
            )

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.binary():
            self._write_server_config()
        else:
            write_users_file(self.users_file, self._embedded_users())

    def launch_spec(self) -> LaunchSpec:
        s = self.settings
        binary = self.binary()
        if binary:
            return LaunchSpec(
                argv=[binary, "server", "--config-file", str(self.server_dir / "config.xml")],
                cwd=self.server_dir,
            )
        return LaunchSpec(
            argv=[
                sys.executable, "-m", "warehouse.embedded",
                "--data-dir", str(self.data_dir / "embedded"),
                "--host", s.bind_host,
                "--port", str(s.clickhouse_http_port),
                "--users-file", str(self.users_file),
                "--max-request-bytes", str(s.clickhouse_max_request_bytes),
                "--socket-timeout", str(s.clickhouse_socket_timeout_seconds),
                "--max-connections", str(s.clickhouse_max_connections),
            ],
            env={"PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"},
            cwd=REPO_ROOT,
        )

    def is_healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.settings.clickhouse_url}/ping",
                                        timeout=PROBE_TIMEOUT_SECONDS) as response:
                return bool(response.status == 200 and response.read().startswith(b"Ok."))
        except (OSError, urllib.error.URLError):
            return False

    def after_healthy(self) -> None:
        database = self.settings.clickhouse_database.replace("`", "\\`")
        self.writer_query(f"CREATE DATABASE IF NOT EXISTS `{database}`")

    def writer_query(self, sql: str) -> str:
        """Run one statement as the writer over HTTP; raise a ComponentError on failure."""
        s = self.settings
        request = urllib.request.Request(
            f"{s.clickhouse_url}/", data=sql.encode(), method="POST",
            headers={"X-ClickHouse-User": s.clickhouse_user,
                     "X-ClickHouse-Key": s.secret("clickhouse_password")},
        )
        try:
            with urllib.request.urlopen(request, timeout=DDL_TIMEOUT_SECONDS) as response:
                return str(response.read().decode())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace").strip()
            raise ComponentError(
                self.name, f"ClickHouse refused {sql.split('(')[0]!r}: {detail}; check the "
                "writer's credentials in secrets.json and the server log",
                log_file=str(self.log_file),
            ) from None
        except OSError as error:
            raise ComponentError(
                self.name, f"cannot reach {s.clickhouse_url}: {error}; is the server running?",
                log_file=str(self.log_file),
            ) from None

    # --- configuration --------------------------------------------------------------------
    def _embedded_users(self) -> list[User]:
        s = self.settings
        profile = {name: str(value) for name, value in reader_profile().items()}
        readonly = int(profile.pop("readonly", "1"))
        quota = reader_quota(s)
        return [
            User(name=s.clickhouse_user,
                 password_sha256_hex=hash_password(s.secret("clickhouse_password")),
                 database=s.clickhouse_database),
            User(name=s.clickhouse_reader_user,
                 password_sha256_hex=hash_password(s.secret("clickhouse_reader_password")),
                 readonly=readonly, settings=profile, database=s.clickhouse_database,
                 quota=Quota(interval_seconds=quota["duration_seconds"],
                             queries=quota["queries"])),
        ]

    def _write_server_config(self) -> None:
        s = self.settings
        root = self.server_dir
        for sub in ("data", "tmp", "user_files", "format_schemas", "logs"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "users.xml").write_text(users_xml(s))
        (root / "users.xml").chmod(0o600)
        (root / "config.xml").write_text(f"""<clickhouse>
  <logger>
    <level>warning</level>
    <console>1</console>
  </logger>
  <listen_host>{escape(s.bind_host)}</listen_host>
  <http_port>{s.clickhouse_http_port}</http_port>
  <tcp_port>{s.clickhouse_tcp_port}</tcp_port>
  <path>{escape(str(root / "data"))}/</path>
  <tmp_path>{escape(str(root / "tmp"))}/</tmp_path>
  <user_files_path>{escape(str(root / "user_files"))}/</user_files_path>
  <format_schema_path>{escape(str(root / "format_schemas"))}/</format_schema_path>
  <user_directories>
    <users_xml><path>{escape(str(root / "users.xml"))}</path></users_xml>
  </user_directories>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <mark_cache_size>268435456</mark_cache_size>
  <max_server_memory_usage_to_ram_ratio>0.5</max_server_memory_usage_to_ram_ratio>
</clickhouse>
""")
