"""Installing what the stack needs from the registries this project may use.

Every step is idempotent and names the component it serves, so a failure says which
part of the stack could not be installed and what to do about it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from boxoffice.errors import ComponentError
from boxoffice.stack.logfiles import append_to_private_log

_apt_updated = False


def run_step(argv: Sequence[str], *, component: str, what: str,
             env: dict[str, str] | None = None, cwd: Path | None = None,
             log_file: Path | None = None) -> str:
    """Run an installation command; on failure raise with its last output lines."""
    result = subprocess.run(
        list(argv), capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd
    )
    output = result.stdout + result.stderr
    if log_file is not None:
        append_to_private_log(log_file, f"\n=== {' '.join(argv)}\n{output}")
    if result.returncode != 0:
        raise ComponentError(
            component,
            f"{what} failed (exit {result.returncode}): {' '.join(argv)}",
            log_file=str(log_file) if log_file else None,
            log_tail="\n".join(output.splitlines()[-25:]),
        )
    return output


def apt_install(packages: Sequence[str], *, component: str) -> None:
    """Install Debian packages (needs root, as on CI; otherwise say what to run)."""
    global _apt_updated
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            raise ComponentError(
                component,
                f"needs the Debian packages {' '.join(packages)}; run as root: "
                f"apt-get install -y {' '.join(packages)}",
            )
        prefix = [sudo, "-n"]
    else:
        prefix = []
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        run_step([*prefix, "apt-get", "update", "-q"], component=component,
                 what="apt-get update", env=env)
        _apt_updated = True
    run_step([*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
             component=component, what=f"installing {' '.join(packages)}", env=env)


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """One installer at a time per tools directory: the demo and test sessions share it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
