"""Live ticket sales for the demo: `boxoffice sell` as a supervised background process."""

from __future__ import annotations

from boxoffice.stack.components.project_process import ProjectProcess
from contracts.settings import Settings

DEMO_SALES_SECONDS = 7 * 24 * 3600
"""Long enough to look endless; `boxoffice down` stops it."""


class Sales(ProjectProcess):
    name = "sales"
    depends_on = ("postgres",)
    module = "boxoffice"

    def __init__(self, *, settings: Settings, rate: float = 20.0) -> None:
        super().__init__(settings=settings)
        self.arguments = ("sell", "--rate", f"{rate:g}",  # type: ignore[misc]
                          "--duration", str(DEMO_SALES_SECONDS))
