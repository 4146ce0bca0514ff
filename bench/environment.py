"""The whole pipeline for one benchmark: every process on free ports in a temp state dir.

The same path as `boxoffice up` (boxoffice.pipeline.up): services, both schemas, the
connector, processors and sink, Superset. Everything started here is stopped on exit,
also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from boxoffice import pipeline
from contracts.settings import Settings
from tests.providers import test_settings

Say = Callable[[str], None]


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def unwind_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the services a run started are stopped."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextmanager
def running_pipeline(prefix: str, **overrides: Any) -> Iterator[Settings]:
    """The pipeline up and healthy; torn down (processes stopped, state removed) after."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-") as state:
        settings = test_settings(Path(state)).model_copy(update=overrides)
        try:
            pipeline.up(settings, say)
            yield settings
        finally:
            pipeline.down(settings, say)
