"""The exactly-once ClickHouse sink as a supervised process (see warehouse/sink/)."""

from __future__ import annotations

from boxoffice.stack.components.project_process import ProjectProcess


class Sink(ProjectProcess):
    name = "sink"
    depends_on = ("kafka", "clickhouse")
    module = "warehouse.sink"
