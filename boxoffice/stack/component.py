"""What every process of the local stack must tell the supervisor.

A component knows how to install what it needs, prepare its configuration and data, the
command that runs it in the foreground, and how to probe its health. The supervisor does
the rest (pid files, logs, deadlines, stopping), so a component module stays small.
"""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from contracts.settings import Settings

Progress = Callable[[str], None]
"""Receives one human-readable line per installation step."""


@dataclass(frozen=True)
class LaunchSpec:
    """How to run a component in the foreground; the supervisor daemonises it."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    run_as: str | None = None
    """OS user to run as when we are root (PostgreSQL refuses to run as root)."""


class Component(ABC):
    """One supervised process of the stack."""

    name: ClassVar[str]
    depends_on: ClassVar[tuple[str, ...]] = ()
    health_deadline_seconds: ClassVar[float | None] = None
    """Overrides Settings.health_deadline_seconds for slow starters (Superset)."""
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    """The signal asking for a clean, quick shutdown (PostgreSQL wants SIGINT)."""

    def __init__(self, *, settings: Settings) -> None:
        self.settings = settings

    @property
    @abstractmethod
    def ports(self) -> dict[str, int]:
        """The ports this component listens on, by role; checked free before start."""

    def install(self, progress: Progress) -> None:  # noqa: B027 - optional hook
        """Make binaries, jars or virtualenvs available; idempotent, may take minutes."""

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Write configuration and initialise the data directory; idempotent."""

    @abstractmethod
    def launch_spec(self) -> LaunchSpec:
        """The foreground command that runs the component."""

    @abstractmethod
    def is_healthy(self) -> bool:
        """A quick probe (under a second or two); never raises."""

    def after_healthy(self) -> None:  # noqa: B027 - optional hook
        """One-time work once healthy (create databases, users); idempotent."""

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir / self.name

    @property
    def log_file(self) -> Path:
        return self.settings.logs_dir / f"{self.name}.log"
