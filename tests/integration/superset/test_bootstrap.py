"""`boxoffice superset bootstrap`: idempotent, read-only warehouse connection, SQL Lab."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from boxoffice.bi.bootstrap import BootstrapResult, bootstrap, logged_in_client
from boxoffice.bi.client import SupersetClient
from boxoffice.bi.databases import CLICKHOUSE_DATABASE_NAME, find_database
from boxoffice.bi.rison import equals_filter
from boxoffice.stack.components.superset import Superset
from contracts.settings import Settings
from tests.integration.superset.sql_lab import execute


def test_bootstrap_is_idempotent(superset: Settings, bootstrapped: BootstrapResult,
                                 admin: SupersetClient, tmp_path: Path) -> None:
    again = bootstrap(superset, dashboards_dir=tmp_path)
    assert again.database_id == bootstrapped.database_id
    assert not again.metadata_initialised
    assert not again.admin_password_reset
    listed = admin.request("GET", "/api/v1/database/", params={
        "q": equals_filter("database_name", CLICKHOUSE_DATABASE_NAME)})
    assert listed["count"] == 1


def test_connection_is_read_only_and_in_sql_lab(superset: Settings,
                                                bootstrapped: BootstrapResult,
                                                admin: SupersetClient) -> None:
    db = admin.request("GET", f"/api/v1/database/{bootstrapped.database_id}")["result"]
    assert db["database_name"] == CLICKHOUSE_DATABASE_NAME
    assert db["expose_in_sqllab"] is True
    assert db["allow_dml"] is False
    assert db["backend"] == "clickhousedb"
    connection = admin.request(
        "GET", f"/api/v1/database/{bootstrapped.database_id}/connection")["result"]
    assert connection["sqlalchemy_uri"].startswith(
        f"clickhousedb://{superset.clickhouse_reader_user}:")
    assert superset.secret("clickhouse_reader_password") not in json.dumps(connection)
    assert find_database(admin, CLICKHOUSE_DATABASE_NAME) == bootstrapped.database_id


def test_sql_lab_runs_an_ad_hoc_select(superset: Settings, bootstrapped: BootstrapResult,
                                       admin: SupersetClient) -> None:
    response = execute(admin, bootstrapped.database_id,
                       "SELECT 40 + 2 AS answer, currentDatabase() AS db",
                       superset.clickhouse_database)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert body["data"] == [{"answer": 42, "db": superset.clickhouse_database}]


@pytest.mark.parametrize("statement", [
    "INSERT INTO {table} VALUES (1)",
    "CREATE TABLE {table} (x UInt8) ENGINE = Memory",
    "DROP TABLE IF EXISTS {table}",
])
def test_sql_lab_refuses_dml(superset: Settings, bootstrapped: BootstrapResult,
                             admin: SupersetClient, unique_name: Callable[[str], str],
                             statement: str) -> None:
    table = unique_name("superset_dml")
    response = execute(admin, bootstrapped.database_id, statement.format(table=table),
                       superset.clickhouse_database)
    assert response.status_code != 200
    errors = response.json()["errors"]
    assert errors[0]["error_type"] == "DML_NOT_ALLOWED_ERROR"


def test_bootstrap_resets_an_admin_password_that_drifted(superset: Settings,
                                                         bootstrapped: BootstrapResult,
                                                         tmp_path: Path) -> None:
    component = Superset(settings=superset)
    drifted = "drifted-" + uuid.uuid4().hex
    component.cli(["fab", "reset-password", "--username", superset.superset_admin_user],
                  what="test: drifting the admin password", stdin=f"{drifted}\n{drifted}\n")

    result = bootstrap(superset, dashboards_dir=tmp_path)

    assert result.admin_password_reset
    logged_in_client(superset).close()


def test_no_secret_reaches_supersets_log(superset: Settings,
                                         bootstrapped: BootstrapResult) -> None:
    log = Superset(settings=superset).log_file.read_text(errors="replace")
    for name in ("superset_admin_password", "superset_secret_key",
                 "clickhouse_reader_password"):
        assert superset.secret(name) not in log, f"{name} leaked into {superset.logs_dir}"
