"""The ClickHouse release pins agree with the engine the tests run, and `warehouse
migrate` refuses an older server before it changes anything (issue 17)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.settings import REPO_ROOT, Settings
from warehouse.errors import MigrationError
from warehouse.executor import ChdbExecutor
from warehouse.migrate import migrate
from warehouse.server_version import OLDEST_TESTED, parse_version, require_tested_version


def test_the_pins_agree_with_the_engine_the_tests_run() -> None:
    executor = ChdbExecutor()
    [(engine,)] = executor.rows("SELECT version()")
    assert parse_version(str(engine)) == OLDEST_TESTED
    pinned = Settings.model_fields["clickhouse_server_version"].default
    assert parse_version(pinned) == OLDEST_TESTED, "docker-compose / testcontainers tag"
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    assert "image: clickhouse/clickhouse-server:${BOXOFFICE_CLICKHOUSE_SERVER_VERSION}" \
        in compose  # the tag comes from that setting, for compose and testcontainers alike
    require_tested_version(executor)


@pytest.mark.parametrize(("text", "parsed"), [("26.9.2.1", (26, 9)), ("25.8", (25, 8)),
                                              ("27.10.1.5-stable", (27, 10))])
def test_versions_parse(text: str, parsed: tuple[int, int]) -> None:
    assert parse_version(text) == parsed


class ServerReporting:
    """An executor whose server says `version`; records every statement it is sent."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.commands: list[str] = []

    def command(self, sql: str) -> None:
        self.commands.append(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        assert sql == "SELECT version()", f"only the version is asked before the check: {sql}"
        return [(self.version,)]


def test_an_older_server_is_refused_before_anything_changes() -> None:
    server = ServerReporting("25.8.3.1")
    with pytest.raises(MigrationError, match=r"ClickHouse 25\.8\.3\.1 is older than 26\.9"):
        migrate(server, "boxoffice")
    assert server.commands == []
