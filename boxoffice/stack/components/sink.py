"""The exactly-once ClickHouse sink as a supervised process (see warehouse/sink/)."""

from __future__ import annotations

from boxoffice.stack.components.project_process import ProjectProcess
from contracts.settings import Settings


class Sink(ProjectProcess):
    name = "sink"
    depends_on = ("kafka", "clickhouse")
    module = "warehouse.sink"

    def __init__(self, *, settings: Settings, index: int = 0) -> None:
        """Process `index` of `settings.sink_processes` in the sink's consumer group:
        `sink` for the first, `sink-<index>` for the others; it is told its index (its
        metrics file) through its settings."""
        super().__init__(settings=settings.model_copy(update={"sink_index": index}))
        if index:
            self.name = f"sink-{index}"  # type: ignore[misc]
        self.index = index


def sink_names(settings: Settings) -> list[str]:
    """The supervisor's names of the installation's sink processes."""
    return ["sink" if index == 0 else f"sink-{index}"
            for index in range(settings.sink_processes)]
