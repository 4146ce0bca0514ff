"""The warehouse connection in Superset: created once, then kept in line with Settings.

Superset connects as the warehouse's read-only user (readonly = 1 at the server), and
the connection itself refuses DML in SQL Lab; either alone would stop an INSERT, both
together keep the ticketing pipeline's tables safe from a dashboard author's typo.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

from boxoffice.bi.client import SupersetClient
from boxoffice.bi.rison import equals_filter
from contracts.settings import Settings

CLICKHOUSE_DATABASE_NAME = "ClickHouse boxoffice"
CLICKHOUSE_DATABASE_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, "boxoffice:clickhouse-warehouse"))
"""Fixed, so dashboard bundles and every installation agree on which connection is meant."""


def clickhouse_uri(settings: Settings, *, password: str | None = None) -> str:
    """SQLAlchemy URL of the warehouse for clickhouse-connect's ``clickhousedb`` dialect.

    With `password` (e.g. Superset's mask) instead of the reader's real one.
    """
    user = quote(settings.clickhouse_reader_user, safe="")
    secret = password if password is not None else settings.secret("clickhouse_reader_password")
    host = settings.superset_clickhouse_host or settings.clickhouse_client_host
    port = settings.superset_clickhouse_port or settings.clickhouse_http_port
    return (f"clickhousedb://{user}:{quote(secret, safe='')}@{host}:{port}/"
            f"{settings.clickhouse_database}")


def clickhouse_payload(settings: Settings) -> dict[str, Any]:
    """The connection as Superset's /api/v1/database/ expects it."""
    return {
        "database_name": CLICKHOUSE_DATABASE_NAME,
        "uuid": CLICKHOUSE_DATABASE_UUID,
        "sqlalchemy_uri": clickhouse_uri(settings),
        "expose_in_sqllab": True,
        "allow_dml": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_run_async": False,
        "allow_file_upload": False,
        "extra": json.dumps({"allows_virtual_table_explore": True,
                             "disable_data_preview": False}),
    }


def find_database(client: SupersetClient, name: str) -> int | None:
    """The id of the Superset database connection called `name`, if there is one."""
    body = client.request("GET", "/api/v1/database/", params={"q": equals_filter(
        "database_name", name)})
    for row in body.get("result", []):
        if row.get("database_name") == name:
            return int(row["id"])
    return None


def ensure_clickhouse_database(client: SupersetClient, settings: Settings) -> int:
    """Create or update the warehouse connection; returns its id. Idempotent.

    Superset tests the connection before saving it, so ClickHouse must be up and the
    reader user must exist.
    """
    payload = clickhouse_payload(settings)
    existing = find_database(client, CLICKHOUSE_DATABASE_NAME)
    if existing is None:
        body = client.request("POST", "/api/v1/database/", json=payload)
        return int(body["id"])
    client.request("PUT", f"/api/v1/database/{existing}", json=payload)
    return existing
