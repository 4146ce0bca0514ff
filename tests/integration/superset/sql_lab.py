"""One SQL Lab request as the tests send it: synchronous, JSON, a fresh client id."""

from __future__ import annotations

import uuid

import requests

from boxoffice.bi.client import SupersetClient


def execute(admin: SupersetClient, database_id: int, sql: str, schema: str, *,
            limit: int = 100, tab: str = "test") -> requests.Response:
    """POST /api/v1/sqllab/execute/; the raw response, refusals included."""
    return admin.raw("POST", "/api/v1/sqllab/execute/", json={
        "database_id": database_id, "sql": sql, "schema": schema, "runAsync": False,
        "client_id": uuid.uuid4().hex[:10], "queryLimit": limit, "tab": tab,
    })
