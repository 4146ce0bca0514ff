"""Reading the repo's charts back through Superset's chart data API, and ClickHouse beside.

`/api/v1/chart/<id>/data/` runs the query context saved with the chart (the one the
dashboard runs), so what it returns is what the dashboard shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from boxoffice.bi.bootstrap import DASHBOARDS_DIR
from boxoffice.bi.client import SupersetClient
from boxoffice.bi.rison import equals_filter
from contracts.settings import Settings
from warehouse.executor import connect


def bundle_objects(kind: str, directory: Path = DASHBOARDS_DIR) -> list[dict[str, Any]]:
    """The bundle's charts, dashboards, datasets or queries as parsed YAML."""
    return [yaml.safe_load(path.read_text())
            for path in sorted((directory / kind).rglob("*.yaml"))]


def chart_id(admin: SupersetClient, name: str) -> int:
    listed = admin.request("GET", "/api/v1/chart/",
                           params={"q": equals_filter("slice_name", name)})
    assert listed["count"] == 1, f"chart {name!r}: {listed['count']} found"
    return int(listed["result"][0]["id"])


def chart_rows(admin: SupersetClient, name: str) -> list[dict[str, Any]]:
    """The rows the chart's saved query context returns now (never cached)."""
    body = admin.request("GET", f"/api/v1/chart/{chart_id(admin, name)}/data/",
                         params={"force": "true"})
    result = body["result"][0]
    assert not result.get("error"), result.get("error")
    return list(result["data"])


AS_OF = "as of "
"""How every live tile's `as_of` begins (the pipeline_freshness view words it)."""


def series(rows: list[dict[str, Any]], x_axis: str) -> dict[Any, Any]:
    """A one-series time chart's values by x. The live charts name their series by its
    `as_of`, which changes with every heartbeat, so the value is the row's only column
    besides the x axis."""
    values = {}
    for row in rows:
        (value,) = [v for column, v in row.items() if column != x_axis]
        values[row[x_axis]] = value
    return values


def as_of_shown(rows: list[dict[str, Any]]) -> set[object]:
    """What a chart's rows say they include: the `as_of` words (a column, or the name of
    the series), and the commit time in epoch ms (`as_of_time`, the figures' x axis,
    which they print above the number)."""
    return ({row["as_of"] for row in rows if "as_of" in row}
            | {column for row in rows for column in row if column.startswith(AS_OF)}
            | {row["as_of_time"] for row in rows if "as_of_time" in row})


def clickhouse_rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` run directly on ClickHouse as the reader, in the warehouse database."""
    client = connect(settings, reader=True, database=settings.clickhouse_database)
    try:
        return [tuple(row) for row in client.query(sql).result_rows]
    finally:
        client.close()
