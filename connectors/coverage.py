"""What of the source schema the pipeline does not capture, or no longer can.

The publication, the connector's include list and the replication role's grants name
the tables of `contracts.tables` one by one, so a table an analyst adds to the schema is
simply not captured: nothing breaks, and nothing of it reaches the warehouse either.
`status` reports such tables so that this is a decision, not a surprise.

A carried column (`contracts.columns`) renamed, dropped or given a type the pipeline
cannot store stops its table at the first change that shows it; the catalog says so
before that change even arrives, so status names the column from the moment of the DDL.
Both read only the catalog, never a row.
"""

from __future__ import annotations

from typing import Any

from connectors.db import connect
from contracts.columns import (
    CARRIED_COLUMNS,
    DEFAULT_PREFIX,
    MONEY_SCALE,
    SOURCE_TYPES,
    WHOLE_VALUES_ONLY,
)
from contracts.settings import Settings
from contracts.tables import PUBLISHED_TABLES


def uncaptured_tables(settings: Settings) -> list[str]:
    """Ordinary tables of settings.source_schema outside the publication's list."""
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select table_name from information_schema.tables "
                        "where table_schema = %s and table_type = 'BASE TABLE' "
                        "order by table_name", (settings.source_schema,))
            names = [str(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()
    return [name for name in names if name not in PUBLISHED_TABLES]


def carried_column_changes(settings: Settings) -> list[dict[str, Any]]:
    """Carried columns the source no longer has as the pipeline reads them (through the
    column map): each with its table, column, the change in words, and whether it
    stops the table (a numeric integer column does not, while its values are whole)."""
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select table_name, column_name, data_type, numeric_scale "
                        "from information_schema.columns where table_schema = %s",
                        (settings.source_schema,))
            found: dict[str, dict[str, str]] = {}
            finer: set[tuple[str, str]] = set()
            for table, column, data_type, scale in cur.fetchall():
                found.setdefault(str(table), {})[str(column)] = str(data_type)
                if data_type == "numeric" and (scale is None or scale > MONEY_SCALE):
                    finer.add((str(table), str(column)))
    finally:
        conn.close()
    changes: list[dict[str, Any]] = []
    for table, columns in CARRIED_COLUMNS.items():
        have = found.get(table)
        if have is None:
            continue  # a missing table is the connector's and verify's to report
        for column, kind in columns.items():
            source = settings.column_map.get(f"{table}.{column}", column)
            if source.startswith(DEFAULT_PREFIX):
                continue  # the operator gave changes that cannot be read a value
            data_type = have.get(source) or have.get(column)
            if data_type is None:
                extra = sorted(set(have) - set(columns) - {"id"})
                changes.append({"table": table, "column": column, "stops": True, "change": (
                    f"is missing (renamed or dropped at the source; it now has "
                    f"{', '.join(extra) or 'no other column'})")})
            elif data_type in WHOLE_VALUES_ONLY.get(kind, ()):
                changes.append({"table": table, "column": column, "stops": False, "change": (
                    f"is now {data_type}: whole values flow as before, and the first "
                    "value with a fraction stops the table")})
            elif kind == "money" and {(table, source), (table, column)} & finer:
                changes.append({"table": table, "column": column, "stops": False, "change": (
                    f"is now {data_type} finer than cents: amounts flow to the cent as "
                    "before, and the first with a fraction of a cent stops the table")})
            elif data_type not in SOURCE_TYPES[kind]:
                changes.append({"table": table, "column": column, "stops": True, "change": (
                    f"is now {data_type}; the pipeline carries "
                    f"{' or '.join(sorted(SOURCE_TYPES[kind]))}")})
    return changes
