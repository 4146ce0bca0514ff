"""One HTTP query from credentials to result: who asks, with which settings, on which connection.

Read-only users are enforced by the engine itself: their connections run with
``readonly=1`` (set last, so nothing after it can lift it), and the engine refuses
writes, DDL and changes of ``readonly`` with code 164. Like ClickHouse, a read-only user
may pass a setting in the URL only with the value it already has. GET requests run with
``readonly=2`` (reads only, settings allowed), as ClickHouse's HTTP interface does.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from warehouse.embedded.engine import SYNTAX_ERROR, Engine, Outcome, run_statement
from warehouse.embedded.errors import (
    ACCESS_DENIED,
    BAD_ARGUMENTS,
    READONLY,
    UNKNOWN_SETTING,
    ClickHouseError,
)
from warehouse.embedded.protocol import QueryRequest
from warehouse.embedded.sessions import SessionRegistry
from warehouse.embedded.statement import leading_keyword
from warehouse.embedded.users import Authenticator, User

_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ENGINE_USER_PREFIX = "default: "
_WRITE_CLASSES = {1, 2}  # chdb query_class MUTATING, MUTATING_GLOBAL


def sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def set_statement(values: dict[str, str]) -> str:
    for name in values:
        if not _SETTING_NAME.match(name):
            raise ClickHouseError(BAD_ARGUMENTS, f"Invalid setting name: {name!r}")
    return "SET " + ", ".join(f"{name} = {sql_string(value)}" for name, value in values.items())


def execute(connection: Any, sql: str) -> None:
    """Run a control statement (SET, USE), reporting failures as ClickHouse errors."""
    try:
        connection.query(sql, "TabSeparated")
    except Exception as error:
        raise ClickHouseError.from_engine(error) from None


def current_values(connection: Any, names: list[str]) -> dict[str, str]:
    """The connection's present values of these settings (to restore them afterwards)."""
    for name in names:
        if not _SETTING_NAME.match(name):
            raise ClickHouseError(BAD_ARGUMENTS, f"Invalid setting name: {name!r}")
    columns = ", ".join(f"toString(getSetting({sql_string(name)}))" for name in names)
    try:
        result = connection.query(f"SELECT {columns}", "JSONCompactEachRow")
    except Exception as error:
        raise ClickHouseError.from_engine(error) from None
    values = json.loads(result.bytes())
    return dict(zip(names, (str(value) for value in values), strict=True))


class QueryService:
    def __init__(self, *, engine: Engine, authenticator: Authenticator,
                 sessions: SessionRegistry) -> None:
        self.engine = engine
        self.authenticator = authenticator
        self.sessions = sessions

    def handle(self, request: QueryRequest) -> Outcome:
        user = self.authenticator.authenticate(request.user, request.password)
        self.authenticator.charge(user)
        try:
            return self._handle(user, request)
        except ClickHouseError as error:
            # chdb runs everything as its user "default"; name the user who asked.
            if error.message.startswith(_ENGINE_USER_PREFIX):
                error.message = f"{user.name}: {error.message[len(_ENGINE_USER_PREFIX):]}"
            raise

    def _handle(self, user: User, request: QueryRequest) -> Outcome:
        sql = request.stream[:1 << 20].decode("utf-8", errors="replace")
        keyword = leading_keyword(sql[:4096])
        if keyword == "SYSTEM":
            raise ClickHouseError(
                ACCESS_DENIED, "SYSTEM statements are refused by the embedded server: its "
                "users share one engine, so one user's SYSTEM STOP MERGES would act for all")
        if user.readonly:
            self._refuse_control(sql, keyword)
        changes = self._allowed_changes(user, request.settings)
        get_readonly = request.method in ("GET", "HEAD") and user.readonly == 0
        if request.session_id is None:
            connection = self._open(user, changes, readonly=2 if get_readonly else user.readonly)
            try:
                return self._run(connection, request, user)
            finally:
                connection.close()
        with self.sessions.use(user.name, request.session_id, timeout=request.session_timeout,
                               check=request.session_check,
                               open_connection=lambda: self._open(user, {}, user.readonly)
                               ) as connection:
            if get_readonly:
                self._refuse_writes(connection, request.stream)
            saved = current_values(connection, list(changes)) if changes else {}
            if changes:
                execute(connection, set_statement(changes))
            try:
                return self._run(connection, request, user)
            finally:
                if saved:  # URL settings last one query; the session's own SETs stay
                    with contextlib.suppress(ClickHouseError):
                        execute(connection, set_statement(saved))

    def _open(self, user: User, changes: dict[str, str], readonly: int) -> Any:
        connection = self.engine.connect()
        values = {**user.settings, **changes}
        if readonly:
            values["readonly"] = str(readonly)  # last: nothing may lift it afterwards
        try:
            if values:
                execute(connection, set_statement(values))
        except ClickHouseError:
            connection.close()
            raise
        return connection

    def _run(self, connection: Any, request: QueryRequest, user: User) -> Outcome:
        database = request.database or user.database
        if database:
            execute(connection, f"USE {sql_identifier(database)}")
        return run_statement(connection, request.stream, request.default_format, request.params)

    def _base_value(self, user: User, name: str) -> str | None:
        return user.settings.get(name, self.engine.default_settings.get(name))

    def _allowed_changes(self, user: User, settings: dict[str, str]) -> dict[str, str]:
        """The URL settings to apply; for a read-only user only no-op ones pass."""
        if user.readonly != 1:
            return dict(settings)
        for name, value in settings.items():
            base = self._base_value(user, name)
            if base is None:
                raise ClickHouseError(UNKNOWN_SETTING, f"Unknown setting '{name}'")
            if base != value:
                raise ClickHouseError(READONLY,
                                      f"Cannot modify '{name}' setting in readonly mode")
        return {}

    def _refuse_control(self, sql: str, keyword: str) -> None:
        """What readonly = 1 does not stop here. The engine runs every user's queries as
        its one user, which may KILL its own queries (a reader could stop the sink's
        inserts); it lets a read-only connection SET settings other than readonly and
        run a write that finds nothing to do (DROP ... IF EXISTS); and it runs several
        `;`-separated statements, which ClickHouse refuses over HTTP. So a reader's
        request is classified by the engine's parser before it runs."""
        connection = self.engine.connect()
        try:
            info = connection._conn.classify_query(sql)
        except Exception as error:
            raise ClickHouseError.from_engine(error) from None
        finally:
            connection.close()
        if int(info["statement_count"]) > 1:
            raise ClickHouseError(SYNTAX_ERROR, "Multi-statements are not allowed",
                                  name="SYNTAX_ERROR")
        if keyword == "KILL":
            raise ClickHouseError(READONLY, "Cannot execute KILL in readonly mode")
        if keyword == "SET":
            raise ClickHouseError(READONLY, "Cannot modify settings in readonly mode")
        if int(info["query_class"]) in _WRITE_CLASSES:
            raise ClickHouseError(READONLY, "Cannot execute query in readonly mode")

    def _refuse_writes(self, connection: Any, stream: bytes) -> None:
        """GET is read-only; within a session readonly=2 could not be undone, so ask the
        engine to classify the statement instead."""
        sql = stream[:1 << 20].decode("utf-8", errors="replace")
        info = connection._conn.classify_query(sql)
        if int(info["query_class"]) in _WRITE_CLASSES:
            raise ClickHouseError(READONLY, "Cannot execute query in readonly mode. "
                                  "For queries over HTTP, method GET implies readonly. "
                                  "You should use method POST for modifying queries")
