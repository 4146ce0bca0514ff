"""A Faust stream-processor worker as a supervised process (see stream_processors/)."""

from __future__ import annotations

from boxoffice.settings import Settings
from boxoffice.stack.components.project_process import ProjectProcess


class ProcessorWorker(ProjectProcess):
    name = "processors"
    depends_on = ("kafka",)
    module = "boxoffice"

    def __init__(self, *, settings: Settings, index: int = 0) -> None:
        super().__init__(settings=settings)
        if index:
            self.name = f"processors-{index}"  # type: ignore[misc]
        self.index = index
        self.arguments = ("processors", "worker", "--index", str(index))  # type: ignore[misc]

    @property
    def ports(self) -> dict[str, int]:
        """The worker's metrics page (what `boxoffice status` reads)."""
        return {"web": self.settings.faust_web_port + self.index}
