"""HTTP sessions (``session_id``): one chdb connection per session, used by one query at a time.

ClickHouse keeps ``SET`` values, the current database and temporary tables per session,
which is exactly the state one chdb connection carries. A session is owned by the user
who opened it, refuses a second concurrent query (SESSION_IS_LOCKED, as ClickHouse does)
and is closed once idle for longer than its ``session_timeout``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from warehouse.embedded.errors import SESSION_IS_LOCKED, SESSION_NOT_FOUND, ClickHouseError


@dataclass
class Session:
    connection: Any
    timeout: float
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SessionRegistry:
    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], Session] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def use(self, user: str, session_id: str, *, timeout: float, check: bool,
            open_connection: Callable[[], Any]) -> Iterator[Any]:
        """The session's connection, held exclusively for the duration of the block."""
        key = (user, session_id)
        with self._lock:
            self._reap(time.monotonic())
            session = self._sessions.get(key)
            if session is None:
                if check:
                    raise ClickHouseError(SESSION_NOT_FOUND, f"Session {session_id} not found")
                session = Session(connection=open_connection(), timeout=timeout)
                self._sessions[key] = session
            if not session.lock.acquire(blocking=False):
                raise ClickHouseError(
                    SESSION_IS_LOCKED, f"Session {session_id} is locked by a concurrent client."
                )
        try:
            yield session.connection
        finally:
            session.timeout = timeout
            session.last_used = time.monotonic()
            session.lock.release()

    def __len__(self) -> int:
        return len(self._sessions)

    def _reap(self, now: float) -> None:
        for key, session in list(self._sessions.items()):
            if now - session.last_used > session.timeout and session.lock.acquire(blocking=False):
                del self._sessions[key]
                with contextlib.suppress(Exception):
                    session.connection.close()
                session.lock.release()

    def close_all(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                with contextlib.suppress(Exception):
                    session.connection.close()
            self._sessions.clear()
