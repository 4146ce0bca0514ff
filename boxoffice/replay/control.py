"""Stopping and starting the pipeline's processes around the swap, through the same
supervisor (pid files, logs, health) that `boxoffice up` starts them with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from boxoffice.stack.supervisor import Supervisor
from contracts.settings import Settings


@dataclass
class ProcessControl:
    """One supervised component by name; `was_running` remembers whether to restart it.

    It is what `warehouse.replay.facts.PausableProcess` asks for: the replay pauses the
    sink through it without knowing how processes are run."""

    supervisor: Supervisor
    name: str
    progress: Callable[[str], None] = lambda _line: None
    was_running: bool = False

    def running(self) -> bool:
        return self.supervisor.pid_of(self.supervisor.component(self.name)) is not None

    def stop(self) -> None:
        self.was_running = self.supervisor.stop(self.supervisor.component(self.name))
        if self.was_running:
            self.progress(f"{self.name}: stopped")

    def start(self) -> None:
        self.supervisor.up([self.name], progress=self.progress)

    def restore(self) -> None:
        """Start it again if this control stopped it."""
        if self.was_running:
            self.start()
            self.was_running = False


def sink_control(settings: Settings, progress: Callable[[str], None]) -> ProcessControl:
    """The installation's sink, as `boxoffice up` runs it."""
    from boxoffice.pipeline import supervisor

    return ProcessControl(supervisor(settings), "sink", progress)
