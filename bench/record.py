"""Where benchmark figures go: bench/results/<name>.json, one file per benchmark."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from contracts.settings import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write the figures with the time they were taken; returns the file."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {"benchmark": name, "at": time.strftime("%FT%TZ", time.gmtime()), **payload}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def read_result(name: str) -> dict[str, Any] | None:
    """The last figures written under `name` (file stem), None if never run."""
    path = RESULTS / f"{name}.json"
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded
