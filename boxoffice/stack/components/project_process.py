"""Base for the pipeline's own Python processes (processors, sink) under the supervisor.

They run `python -m <module>` from this interpreter and receive the whole `Settings`
as BOXOFFICE_* variables, so a child sees exactly the ports, topics and credentials of
the parent (tests pass free ports as arguments, not through the environment).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr

from boxoffice.stack.component import Component, LaunchSpec
from contracts.settings import REPO_ROOT, Settings


def settings_env(settings: Settings) -> dict[str, str]:
    """Every set field of `settings` as the BOXOFFICE_* variable that reproduces it."""
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, dict)):
            value = json.dumps(value)
        env[f"BOXOFFICE_{name.upper()}"] = str(value)
    return env


class ProjectProcess(Component):
    """A `python -m module` process of this project; healthy while it runs."""

    module: ClassVar[str]
    arguments: ClassVar[tuple[str, ...]] = ()

    @property
    def ports(self) -> dict[str, int]:
        return {}

    def launch_spec(self) -> LaunchSpec:
        return LaunchSpec(
            argv=[sys.executable, "-m", self.module, *self.arguments],
            env={**settings_env(self.settings), "PYTHONUNBUFFERED": "1"},
            cwd=REPO_ROOT,
        )

    def is_healthy(self) -> bool:
        """Alive is healthy: lag and errors are reported by `boxoffice status`."""
        record = self.settings.run_dir / f"{self.name}.json"
        try:
            pid = int(json.loads(record.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return False
        return Path(f"/proc/{pid}").exists()
