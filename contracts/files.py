"""Writing state files so a reader never sees half of one."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def write_atomically(path: Path, text: str, *, private: bool = False) -> None:
    """Write beside `path` and rename over it; `private` files (credentials) are 0600
    before they hold anything. The temporary file's name is unique, so processes that
    write the same file at once each rename a whole file of their own (with one fixed
    name, the second rename would find the file already moved away and fail)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(handle, "w") as out:  # mkstemp creates it 0600
            if not private:
                os.fchmod(out.fileno(), 0o644)
            out.write(text)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def exclusively(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `<path>.lock` (flock) for read-modify-write of `path`
    by processes that may start at the same moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
