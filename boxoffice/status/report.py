"""The status table a person reads, and the JSON a script reads."""

from __future__ import annotations

import json

from rich.table import Table

from boxoffice.status.model import DOWN, OK, UNHEALTHY, UNKNOWN, WARN, StatusReport

COLOURS = {OK: "green", WARN: "yellow", DOWN: "red", UNHEALTHY: "red", UNKNOWN: "magenta"}


def status_table(report: StatusReport) -> Table:
    title = "healthy" if report.healthy else "UNHEALTHY: " + ", ".join(
        s.name for s in report.sections if not s.healthy)
    table = Table(title=f"boxoffice status: {title}",
                  caption=f"checked in {report.seconds:.1f} s")
    table.add_column("part")
    table.add_column("state")
    table.add_column("details", overflow="fold")
    for section in report.sections:
        colour = COLOURS.get(section.state, "white")
        table.add_row(section.name, f"[{colour}]{section.state}[/{colour}]", section.summary)
    return table


def to_json(report: StatusReport) -> str:
    return json.dumps(report.as_dict(), indent=2, default=str)
