"""A column added to a dimension at the source reaches Superset's dataset by itself.

The sink adds the column to the dimension table and re-creates its view (the same
statements run here, `warehouse.sink.added_columns` and `warehouse.views`); Superset's
worker then syncs the dataset's columns (superset/superset_config.py), so the column is
in the dataset, and in a chart's query, without a restart or a manual "sync columns".
"""

from __future__ import annotations

from boxoffice.bi.client import SupersetClient
from boxoffice.bi.rison import equals_filter
from contracts.settings import Settings
from tests.integration.superset.festival_data import Festival
from tests.support.waiting import wait_until
from warehouse.executor import ClientExecutor, connect
from warehouse.sink.added_columns import add_column_statements
from warehouse.views import view_statements


def dataset_columns(admin: SupersetClient, name: str) -> tuple[int, set[str]]:
    listed = admin.request("GET", "/api/v1/dataset/", params={"q": equals_filter(
        "table_name", name)})
    assert listed["count"] == 1, listed
    dataset_id = int(listed["result"][0]["id"])
    detail = admin.request("GET", f"/api/v1/dataset/{dataset_id}")["result"]
    return dataset_id, {str(column["column_name"]) for column in detail["columns"]}


def test_a_column_added_to_venues_appears_in_the_superset_dataset(
        festival: Festival, superset: Settings, admin: SupersetClient) -> None:
    database = superset.clickhouse_database
    dataset_id, before = dataset_columns(admin, "venues")
    assert before == {"id", "name", "capacity"}  # the negative control: as imported

    executor = ClientExecutor(connect(superset))
    try:
        for statement in [*add_column_statements(database, "venues", ["city"]),
                          *view_statements(database, "venues")]:
            executor.command(statement)
        executor.command(f"ALTER TABLE {database}.dim_venues UPDATE city = 'Austin' "
                         "WHERE 1 SETTINGS mutations_sync = 2")

        wait_until(lambda: "city" in dataset_columns(admin, "venues")[1],
                   deadline_seconds=60,
                   what="the venues dataset to show the column added to its view")
        body = admin.request("POST", "/api/v1/chart/data", json={
            "datasource": {"id": dataset_id, "type": "table"},
            "queries": [{"columns": ["city"], "metrics": ["count"], "row_limit": 10}],
            "result_format": "json", "result_type": "full"})
        rows = body["result"][0]["data"]
        assert rows == [{"city": "Austin", "count": len(festival.venues)}], rows
    finally:  # the session's other tests share this warehouse and these datasets
        executor.command(f"ALTER TABLE {database}.dim_venues DROP COLUMN IF EXISTS city")
        for statement in view_statements(database, "venues"):
            executor.command(statement)
        executor.client.close()
