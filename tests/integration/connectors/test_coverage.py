"""A table an analyst adds to the festival schema is not captured (the publication names
its tables); status says so, with the way to add it, instead of silently ignoring it."""

from __future__ import annotations

from boxoffice.status.coverage import coverage_section
from boxoffice.status.model import OK, WARN
from connectors.coverage import uncaptured_tables
from connectors.db import connect
from contracts.settings import Settings


def test_a_table_added_to_the_schema_is_reported_as_not_captured(source: Settings) -> None:
    assert uncaptured_tables(source) == []  # the negative control: the schema as made
    assert coverage_section(source).state == OK

    conn = connect(source)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"create table {source.source_schema}.merch "
                        "(id integer primary key, item text)")
    finally:
        conn.close()

    assert uncaptured_tables(source) == ["merch"]
    section = coverage_section(source)
    assert section.state == WARN
    assert f"{source.source_schema}.merch" in section.summary
    assert "contracts/tables.py" in section.summary
