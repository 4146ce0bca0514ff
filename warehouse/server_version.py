"""The oldest ClickHouse the migrations are tested on, and the check that refuses older.

Every test runs the embedded engine (chdb), ClickHouse 26.9; docker-compose and the
testcontainers path pin the server image of the same release (`clickhouse_server_version`
in the settings). An older server may lack a function or a setting the migrations and
views use and fail half-way through, so `warehouse migrate` refuses it up front.
"""

from __future__ import annotations

import re

from warehouse.errors import MigrationError
from warehouse.executor import Executor

OLDEST_TESTED = (26, 9)
"""major.minor of the engine the test suite runs (tests check the pins agree)."""
_VERSION = re.compile(r"^(\d+)\.(\d+)")


def parse_version(text: str) -> tuple[int, int]:
    """major.minor of ClickHouse's `version()` text, such as "26.9.2.1"."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise MigrationError(f"ClickHouse reported a version boxoffice cannot read: {text!r}")
    return int(match.group(1)), int(match.group(2))


def require_tested_version(executor: Executor) -> str:
    """The server's version text; MigrationError if it is older than `OLDEST_TESTED`."""
    [(text,)] = executor.rows("SELECT version()")
    if parse_version(str(text)) < OLDEST_TESTED:
        oldest = ".".join(map(str, OLDEST_TESTED))
        raise MigrationError(
            f"ClickHouse {text} is older than {oldest}, the oldest release boxoffice's "
            f"migrations are tested on; upgrade the server (docker-compose pins "
            f"clickhouse/clickhouse-server:{oldest}) or set BOXOFFICE_CLICKHOUSE_HOST to "
            "a newer one. Nothing was changed.")
    return str(text)
