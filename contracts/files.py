"""Writing state files so a reader never sees half of one."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, text: str, *, private: bool = False) -> None:
    """Write beside `path` and rename over it; `private` files (credentials) are 0600
    before they hold anything."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("")
    if private:
        os.chmod(tmp, 0o600)
    tmp.write_text(text)
    tmp.replace(path)
