"""The dashboards-as-code import path: a Superset export bundle from the repo."""

from __future__ import annotations

import json
from pathlib import Path

from boxoffice.bi.bootstrap import BootstrapResult, bootstrap
from boxoffice.bi.client import SupersetClient
from boxoffice.bi.rison import equals_filter
from contracts.settings import Settings

PROBE_BUNDLE = Path(__file__).parent / "probe_bundle"
PROBE_SLUG = "boxoffice-bundle-probe"


def _one(admin: SupersetClient, resource: str, column: str, value: str) -> dict[str, object]:
    listed = admin.request("GET", f"/api/v1/{resource}/",
                           params={"q": equals_filter(column, value)})
    assert listed["count"] == 1, listed
    return dict(listed["result"][0])


def test_bundle_imports_onto_the_managed_connection(superset: Settings,
                                                    bootstrapped: BootstrapResult,
                                                    admin: SupersetClient) -> None:
    first = bootstrap(superset, dashboards_dir=PROBE_BUNDLE)
    again = bootstrap(superset, dashboards_dir=PROBE_BUNDLE)

    assert first.dashboards_imported and again.dashboards_imported
    assert first.database_id == again.database_id == bootstrapped.database_id
    databases = admin.request("GET", "/api/v1/database/")
    assert databases["count"] == 1, "the bundle's database must not become a second one"
    db = admin.request("GET", f"/api/v1/database/{bootstrapped.database_id}")["result"]
    assert db["allow_dml"] is False, "the bundle said allow_dml: true; bootstrap overrides it"

    dashboard = _one(admin, "dashboard", "slug", PROBE_SLUG)
    detail = admin.request("GET", f"/api/v1/dashboard/{dashboard['id']}")["result"]
    assert json.loads(detail["json_metadata"])["refresh_frequency"] == 10
    dataset = _one(admin, "dataset", "table_name", "bundle_probe")
    assert dataset["database"]["id"] == bootstrapped.database_id  # type: ignore[index]


def test_imported_dataset_queries_clickhouse(superset: Settings,
                                             bootstrapped: BootstrapResult,
                                             admin: SupersetClient) -> None:
    bootstrap(superset, dashboards_dir=PROBE_BUNDLE)
    dataset = _one(admin, "dataset", "table_name", "bundle_probe")
    body = admin.request("POST", "/api/v1/chart/data", json={
        "datasource": {"id": dataset["id"], "type": "table"},
        "queries": [{"metrics": ["total_answer"], "columns": [], "row_limit": 10}],
        "result_format": "json", "result_type": "full",
    })
    assert body["result"][0]["data"] == [{"total_answer": 42}]
