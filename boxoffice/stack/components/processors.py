"""A Faust stream-processor worker as a supervised process (see stream_processors/)."""

from __future__ import annotations

from boxoffice.stack.components.project_process import ProjectProcess
from contracts.settings import Settings


class ProcessorWorker(ProjectProcess):
    name = "processors"
    depends_on = ("kafka",)
    module = "boxoffice"

    def __init__(self, *, settings: Settings, index: int = 0, name: str | None = None) -> None:
        """`name` is the supervisor's name for it (pid file, log): `processors-<index>` by
        default; a replay runs its new generation's workers under names of their own."""
        super().__init__(settings=settings)
        if name or index:
            self.name = name or f"processors-{index}"  # type: ignore[misc]
        self.index = index
        self.arguments = ("processors", "worker", "--index", str(index))  # type: ignore[misc]

    @property
    def ports(self) -> dict[str, int]:
        """The worker's metrics page (what `boxoffice status` reads)."""
        return {"web": self.settings.faust_web_port + self.index}
