"""A table an analyst adds to the festival schema is not captured (the publication names
its tables); status says so, with the way to add it, instead of silently ignoring it."""

from __future__ import annotations

from boxoffice.status.coverage import coverage_section
from boxoffice.status.model import OK, UNHEALTHY, WARN
from connectors.coverage import carried_column_changes, uncaptured_tables
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


def run_sql(settings: Settings, *statements: str) -> None:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement.format(s=settings.source_schema))
    finally:
        conn.close()


def test_a_carried_column_renamed_or_retyped_at_the_source_turns_status_red(
        source: Settings) -> None:
    """From the moment of the DDL, before any change of the table arrives: the catalog
    names the table, the column, the change and the fix; mapping it makes it green."""
    assert carried_column_changes(source) == []  # the negative control

    run_sql(source, "alter table {s}.venues rename column capacity to seats",
            "alter table {s}.purchases alter column purchase_date type date")
    section = coverage_section(source)
    assert section.state == UNHEALTHY
    assert (f"{source.source_schema}.venues.capacity is missing (renamed or dropped at the "
            "source; it now has seats)") in section.summary
    assert f"{source.source_schema}.purchases.purchase_date is now date" in section.summary
    assert "BOXOFFICE_COLUMN_MAP" in section.summary

    mapped = source.model_copy(update={"column_map": {
        "venues.capacity": "seats", "purchases.purchase_date": "=2000-01-01T00:00:00Z"}})
    assert coverage_section(mapped).state == OK

    # a price becoming numeric(10,2) is a widening of an amount: carried to the cent
    run_sql(source, "alter table {s}.tickets alter column price type numeric(10, 2)")
    assert coverage_section(mapped).state == OK
    # finer than cents: a warning, not a stop (the first fraction of a cent stops)
    run_sql(source, "alter table {s}.tickets alter column price type numeric(10, 3)")
    section = coverage_section(mapped)
    assert section.state == WARN
    assert "tickets.price is now numeric finer than cents" in section.summary
    # an integer column becoming numeric: a warning while its values are whole
    run_sql(source, "alter table {s}.venues alter column seats type numeric")
    section = coverage_section(mapped)
    assert "venues.capacity is now numeric: whole values flow" in section.summary
