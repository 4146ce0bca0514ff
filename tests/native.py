"""The native provider: the project's own supervisor starts real processes."""

from __future__ import annotations

from boxoffice.stack.components import stack_components
from boxoffice.stack.supervisor import Supervisor
from contracts.settings import Settings


class NativeProvider:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.supervisor = Supervisor(settings=settings, components=stack_components(settings))

    def ensure(self, name: str) -> Settings:
        self.supervisor.up([name], progress=lambda line: print(f"[stack] {line}"))
        return self.settings

    def close(self) -> None:
        self.supervisor.down(progress=lambda line: print(f"[stack] {line}"))
