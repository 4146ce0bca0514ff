"""Stopping and starting the pipeline's processes around the swap, through the same
supervisor (pid files, logs, health) that `boxoffice up` starts them with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from boxoffice.stack.components.sink import sink_names
from boxoffice.stack.supervisor import Supervisor
from contracts.settings import Settings


@dataclass
class ProcessControl:
    """Supervised components by name (one, or all the sink's processes), paused and
    resumed together; `was_running` remembers whether to restart them.

    It is what `warehouse.replay.facts.PausableProcess` asks for: the replay pauses the
    sink through it without knowing how processes are run."""

    supervisor: Supervisor
    name: str | Sequence[str]
    progress: Callable[[str], None] = lambda _line: None
    was_running: bool = False

    @property
    def names(self) -> list[str]:
        return [self.name] if isinstance(self.name, str) else list(self.name)

    def running(self) -> bool:
        return any(self.supervisor.pid_of(self.supervisor.component(name)) is not None
                   for name in self.names)

    def stop(self) -> None:
        stopped = [name for name in self.names
                   if self.supervisor.stop(self.supervisor.component(name))]
        self.was_running = bool(stopped)
        for name in stopped:
            self.progress(f"{name}: stopped")

    def start(self) -> None:
        self.supervisor.up(self.names, progress=self.progress)

    def restore(self) -> None:
        """Start it again if this control stopped it."""
        if self.was_running:
            self.start()
            self.was_running = False


def sink_control(settings: Settings, progress: Callable[[str], None]) -> ProcessControl:
    """The installation's sink processes, as `boxoffice up` runs them."""
    from boxoffice.pipeline import supervisor

    return ProcessControl(supervisor(settings), sink_names(settings), progress)
