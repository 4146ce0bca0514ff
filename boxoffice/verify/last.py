"""The last verify of the pipeline's own warehouse, kept for those who ask later.

`verify` runs on demand (an operator, a test, a replay's check), while monitoring asks
on its own clock: the Prometheus endpoint reports whether the last verify matched and
when it ran (`boxoffice.metrics`). One small file in the run directory, replaced whole.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts.files import write_atomically
from contracts.settings import Settings

if TYPE_CHECKING:
    from boxoffice.verify.run import VerifyReport

FILE_NAME = "last-verify.json"


@dataclass(frozen=True)
class LastVerify:
    ok: bool
    finished_at: float
    """Unix seconds."""
    failing: list[str]


def record(settings: Settings, report: VerifyReport) -> None:
    failing = [r.name for r in report.results if not r.ok]
    write_atomically(settings.run_dir / FILE_NAME, json.dumps(
        {"ok": report.ok, "finished_at": time.time(), "failing": failing,
         "errors": len(report.errors)}), private=True)


def last_verify(settings: Settings) -> LastVerify | None:
    """None when verify never ran in this state directory (or its file is unreadable)."""
    try:
        doc = json.loads((settings.run_dir / FILE_NAME).read_text())
        return LastVerify(ok=bool(doc["ok"]), finished_at=float(doc["finished_at"]),
                          failing=[str(name) for name in doc.get("failing", [])])
    except (OSError, ValueError, KeyError, TypeError):
        return None
