"""Log files readable by their owner only.

Logs name hosts, users, ports and the statements that failed, and anyone on the machine
may read a file created with the default umask. Every log the stack writes is opened here
at 0600 (also when it existed with wider rights), in a logs directory of 0700.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO


def open_private_log(path: Path) -> BinaryIO:
    """The log at `path` for appending bytes (a child process's stdout)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "ab")


def append_to_private_log(path: Path, text: str) -> None:
    with open_private_log(path) as log:
        log.write(text.encode(errors="replace"))
