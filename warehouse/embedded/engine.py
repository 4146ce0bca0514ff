"""The chdb engine bound to one data directory, and how one statement runs on it.

chdb hosts a single ClickHouse engine per process, bound to one path. Any number of
connections to that path may be open, each with its own session state (current database,
``SET`` values, temporary tables), and queries on different connections run in parallel.
So a request gets its own connection (a session keeps one), and nothing is serialised
here beyond what one connection needs.

The engine would let its user read and write any file the process can (local mode
ignores `user_files_path`) and reach any host through table functions. It boots with a
users file of its own (`warehouse.users.engine_users_xml`) that grants its `default`
user the writer's privileges and no SOURCES, so `file()`, `url()`, `postgresql()`,
`remote()`, `s3()` and the like are refused with ACCESS_DENIED (497), and with empty
directories for user files and scripts (`executable()` finds nothing to run).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from contracts.files import write_atomically
from warehouse.embedded.errors import ClickHouseError
from warehouse.embedded.statement import split_insert, trailing_format
from warehouse.users import engine_users_xml

SYNTAX_ERROR = 62


@dataclass(frozen=True)
class Outcome:
    """A statement's result bytes, the format they are in, and its summary counters."""

    body: bytes
    format: str
    summary: dict[str, str]


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """chdb may print while it boots; keep the server's stdout for its own log lines."""
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class Engine:
    """Owns the data directory; opens connections and describes the server."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        config = write_engine_config(data_dir.with_name(data_dir.name + "-config"))
        with _quiet_stdout():
            import chdb

            self._chdb = chdb
            # Held for the server's lifetime: the engine stops when its last connection
            # closes. Later connections to the path share this engine and its users.
            self._anchor = chdb.connect(f"{data_dir}?config-file={config}")
        self.data_dir = data_dir
        version, timezone = self.scalar_row("SELECT version(), timezone()")
        self.version = version
        self.timezone = timezone
        rows = self._anchor.query("SELECT name, value FROM system.settings", "TabSeparated")
        self.default_settings = dict(_tsv_rows(rows.bytes()))

    def ensure_databases(self, names: set[str]) -> None:
        """Create the users' default databases (Atomic, the engine's default engine)."""
        for name in sorted(names):
            quoted = name.replace("\\", "\\\\").replace("`", "\\`")
            self._anchor.query(f"CREATE DATABASE IF NOT EXISTS `{quoted}`", "TabSeparated")

    def connect(self) -> Any:
        """A new connection with fresh session state (cheap: well under a millisecond)."""
        return self._chdb.connect(str(self.data_dir))

    def scalar_row(self, sql: str) -> list[str]:
        result = self._anchor.query(sql, "TabSeparated")
        return result.bytes().decode().rstrip("\n").split("\t")

    def close(self) -> None:
        self._anchor.close()


def write_engine_config(directory: Path) -> Path:
    """The engine's config file and its users file, readable by the owner only."""
    for sub in ("user_files", "user_scripts"):
        (directory / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    users = directory / "users.xml"
    write_atomically(users, engine_users_xml(), private=True)
    config = directory / "config.xml"
    write_atomically(config, f"""<clickhouse>
  <user_files_path>{escape(str(directory / "user_files"))}/</user_files_path>
  <user_scripts_path>{escape(str(directory / "user_scripts"))}/</user_scripts_path>
  <users_config>{escape(str(users))}</users_config>
</clickhouse>
""", private=True)
    return config


def run_statement(connection: Any, stream: bytes, default_format: str,
                  params: dict[str, str]) -> Outcome:
    """Run one request's SQL (with its inline data, if an INSERT carries some)."""
    try:
        insert = split_insert(stream)
        if insert is not None:
            inserter = connection.send_insert(insert.statement, insert.format)
            try:
                if insert.data:
                    inserter.append(insert.data)
                done = inserter.finish()
            except BaseException:
                with contextlib.suppress(Exception):
                    inserter.cancel()
                raise
            return Outcome(b"", default_format, _insert_summary(done))
        sql = stream.decode("utf-8", errors="replace")
        if not sql.strip():
            raise ClickHouseError(SYNTAX_ERROR, "Empty query", name="SYNTAX_ERROR")
        result = connection.query(sql, default_format, params=params or None)
        return Outcome(result.bytes(), trailing_format(sql) or default_format,
                       _query_summary(result))
    except ClickHouseError:
        raise
    except Exception as error:
        raise ClickHouseError.from_engine(error) from None


def _tsv_rows(data: bytes) -> Iterator[tuple[str, str]]:
    for line in data.decode().splitlines():
        name, _, value = line.partition("\t")
        yield name, value


def _query_summary(result: Any) -> dict[str, str]:
    return {
        "read_rows": str(result.storage_rows_read()),
        "read_bytes": str(result.storage_bytes_read()),
        "written_rows": str(result.rows_written()),
        "written_bytes": str(result.bytes_written()),
        "total_rows_to_read": str(result.storage_rows_read()),
        "result_rows": str(result.rows_read()),
        "result_bytes": str(result.bytes_read()),
        "elapsed_ns": str(int(result.elapsed() * 1e9)),
    }


def _insert_summary(done: Any) -> dict[str, str]:
    return {
        "read_rows": str(done.rows_written),
        "read_bytes": str(done.bytes_written),
        "written_rows": str(done.rows_written),
        "written_bytes": str(done.bytes_written),
        "total_rows_to_read": "0",
        "result_rows": str(done.rows_written),
        "result_bytes": str(done.bytes_written),
        "elapsed_ns": str(int(done.elapsed * 1e9)),
    }
