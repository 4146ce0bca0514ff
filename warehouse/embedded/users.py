"""The users file: who may connect, with which password, profile settings and quota.

The file is JSON so the stack component can write it from Settings without a template.
Passwords are stored as SHA-256 hex digests (as ClickHouse's ``password_sha256_hex``),
never in clear::

    {"users": {"boxoffice_reader": {"password_sha256_hex": "...", "readonly": 1,
                                    "database": "boxoffice",
                                    "settings": {"max_execution_time": 60},
                                    "quota": {"interval_seconds": 3600, "queries": 10000}}}}

``database`` is the user's default database, as ClickHouse's ``CREATE USER ... DEFAULT
DATABASE``: the engine's own default database also resolves unknown names as files,
which its grants refuse, so a mistyped table would read as a missing FILE grant.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.files import write_atomically
from warehouse.embedded.errors import AUTHENTICATION_FAILED, QUOTA_EXCEEDED, ClickHouseError


def hash_password(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


@dataclass(frozen=True)
class Quota:
    """At most ``queries`` queries per ``interval_seconds`` (0 means unlimited)."""

    interval_seconds: int = 3600
    queries: int = 0


@dataclass(frozen=True)
class User:
    name: str
    password_sha256_hex: str
    readonly: int = 0
    settings: dict[str, str] = field(default_factory=dict)
    quota: Quota = field(default_factory=Quota)
    database: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "password_sha256_hex": self.password_sha256_hex,
            "readonly": self.readonly,
            "database": self.database,
            "settings": self.settings,
            "quota": {"interval_seconds": self.quota.interval_seconds,
                      "queries": self.quota.queries},
        }


def user_from_json(name: str, raw: dict[str, Any]) -> User:
    quota = raw.get("quota") or {}
    return User(
        name=name,
        password_sha256_hex=str(raw["password_sha256_hex"]),
        readonly=int(raw.get("readonly", 0)),
        settings={str(k): str(v) for k, v in (raw.get("settings") or {}).items()},
        quota=Quota(int(quota.get("interval_seconds", 3600)), int(quota.get("queries", 0))),
        database=str(raw["database"]) if raw.get("database") else None,
    )


def load_users(path: Path) -> dict[str, User]:
    document = json.loads(path.read_text())
    return {name: user_from_json(name, raw) for name, raw in document["users"].items()}


def write_users_file(path: Path, users: list[User]) -> None:
    """Write the file atomically, readable by its owner only (it holds password hashes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps({"users": {u.name: u.as_json() for u in users}},
                                      indent=2), private=True)


class Authenticator:
    """Checks credentials and counts queries against each user's quota."""

    def __init__(self, users: dict[str, User]) -> None:
        self._users = users
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def authenticate(self, name: str, password: str) -> User:
        user = self._users.get(name)
        given = hash_password(password)
        expected = user.password_sha256_hex if user else hash_password(given)
        if user is None or not hmac.compare_digest(given, expected):
            raise ClickHouseError(
                AUTHENTICATION_FAILED,
                f"{name}: Authentication failed: password is incorrect, or there is no user "
                "with such name.",
            )
        return user

    def charge(self, user: User) -> None:
        """Count one query; raise QUOTA_EXCEEDED when the interval's allowance is spent."""
        quota = user.quota
        if quota.queries <= 0:
            return
        now = time.monotonic()
        with self._lock:
            start, used = self._windows.get(user.name, (now, 0))
            if now - start >= quota.interval_seconds:
                start, used = now, 0
            if used >= quota.queries:
                raise ClickHouseError(
                    QUOTA_EXCEEDED,
                    f"Quota for user `{user.name}` for {quota.interval_seconds}s has been "
                    f"exceeded: queries = {used + 1}/{quota.queries}.",
                )
            self._windows[user.name] = (start, used + 1)
