"""The two things the migration runner and the tests need from ClickHouse: run a
statement, read rows. One protocol, so the same code runs over HTTP (clickhouse-connect,
what production uses) and in-process (chdb, for unit tests that need no server)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from contracts.settings import Settings


class Executor(Protocol):
    def command(self, sql: str) -> None:
        """Run one statement that returns nothing useful (DDL, INSERT)."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one SELECT and return its rows."""


class ClientExecutor:
    """Executor over a clickhouse-connect client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def command(self, sql: str) -> None:
        self.client.command(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.client.query(sql).result_rows]


class ChdbExecutor:
    """Executor over an in-process chdb session (the real ClickHouse engine, no server)."""

    def __init__(self, session: Any | None = None) -> None:
        if session is None:
            from chdb import session as chdb_session

            session = chdb_session.Session()
        self.session = session
        # Decimals as text, as 64-bit integers already are: a JSON number would reach
        # Python as a float and round the cents of a revenue sum.
        self.session.query("SET output_format_json_quote_decimals = 1")

    def command(self, sql: str) -> None:
        self.session.query(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        result = self.session.query(sql, "JSONCompact")
        text = result.bytes().decode() if hasattr(result, "bytes") else str(result)
        if not text.strip():
            return []
        return [tuple(row) for row in json.loads(text)["data"]]

    def close(self) -> None:
        self.session.close()


def connect(settings: Settings, *, reader: bool = False, database: str | None = None,
            **kwargs: Any) -> Any:
    """A clickhouse-connect client for the writer (default) or the read-only user."""
    import clickhouse_connect

    user = settings.clickhouse_reader_user if reader else settings.clickhouse_user
    password = settings.secret("clickhouse_reader_password" if reader
                               else "clickhouse_password")
    return clickhouse_connect.get_client(
        host=settings.clickhouse_client_host, port=settings.clickhouse_http_port, username=user,
        password=password, database=database or "default", **kwargs)
