"""The source schema against what the pipeline captures and carries.

Red when a carried column was renamed, dropped or retyped at the source: its table stops
at the first change that shows it (`contracts.columns`), so the fix is named here from
the moment of the DDL. A warning for tables the pipeline does not capture at all.
"""

from __future__ import annotations

from boxoffice.status.model import OK, UNHEALTHY, WARN, Section
from connectors.coverage import carried_column_changes, uncaptured_tables
from contracts.columns import fix_for
from contracts.settings import Settings


def coverage_section(settings: Settings) -> Section:
    missing = uncaptured_tables(settings)
    changed = carried_column_changes(settings)
    schema = settings.source_schema
    data = {"uncaptured": missing, "changed_columns": changed}
    stopping = [c for c in changed if c["stops"]]
    if stopping:
        first = stopping[0]
        named = "; ".join(f"{schema}.{c['table']}.{c['column']} {c['change']}"
                          for c in stopping)
        return Section(
            name="source_tables", state=UNHEALTHY, data=data,
            summary=(f"{named}: changes of that table stop there (nothing is lost, the "
                     f"other tables go on). Fix: {fix_for(first['table'], first['column'])}"))
    if changed:
        named = "; ".join(f"{schema}.{c['table']}.{c['column']} {c['change']}"
                          for c in changed)
        return Section(name="source_tables", state=WARN, data=data, summary=(
            f"{named}. To carry amounts with cents, see docs/source.md, \"Stopped "
            "tables\"."))
    if not missing:
        return Section(name="source_tables", state=OK,
                       summary=f"every table of {schema} is captured", data=data)
    names = ", ".join(f"{schema}.{name}" for name in missing)
    return Section(
        name="source_tables", state=WARN, data=data,
        summary=(f"not captured: {names} (nothing of it reaches the warehouse). To "
                 "capture a table, add it to contracts/tables.py with the stage that "
                 "reads it, then run `boxoffice connector apply` (docs/source.md)."))
