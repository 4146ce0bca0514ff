"""The source tables the pipeline does not capture: a warning with the way to add one."""

from __future__ import annotations

from boxoffice.status.model import OK, WARN, Section
from connectors.coverage import uncaptured_tables
from contracts.settings import Settings


def coverage_section(settings: Settings) -> Section:
    missing = uncaptured_tables(settings)
    schema = settings.source_schema
    if not missing:
        return Section(name="source_tables", state=OK,
                       summary=f"every table of {schema} is captured", data={"uncaptured": []})
    names = ", ".join(f"{schema}.{name}" for name in missing)
    return Section(
        name="source_tables", state=WARN, data={"uncaptured": missing},
        summary=(f"not captured: {names} (nothing of it reaches the warehouse). To "
                 "capture a table, add it to contracts/tables.py with the stage that "
                 "reads it, then run `boxoffice connector apply` (docs/source.md)."))
