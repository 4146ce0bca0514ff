"""DDL at the source while sales go on: the changes an analyst makes on a Tuesday.

Adding columns (to a dimension, where it appears in ClickHouse, and to a joined table,
where it is ignored), dropping columns boxoffice does not carry (`bands.fee`,
`tickets.ticketnum`) and widening carried columns (integer to bigint, used past 2^31
right away; the price to numeric, sold past 2^31 and with cents right away) must leave
every stage flowing: no dead letter, the bands still following the source, and `verify`
working throughout and ending ALL MATCH, with revenue to the cent (the documented path
for a price becoming numeric is to change its type once the connector has read the
table's other DDL, and nothing more: docs/source.md).
"""

from __future__ import annotations

from boxoffice.verify import verify, verify_until
from connectors.manage import wait_caught_up
from contracts.columns import exact_amount
from contracts.settings import Settings
from tests.chaos.deadletters import read_dead_letters
from tests.chaos.per_ticket import ticket_differences
from tests.e2e.flow import explain, run_sql, sales, seeded_and_exact
from warehouse.executor import ClientExecutor
from warehouse.executor import connect as clickhouse

DDL = (
    "alter table {s}.venues add column city text default 'Austin'",
    "alter table {s}.tickets add column seat text",
    "alter table {s}.bands drop column fee",
    "alter table {s}.tickets drop column ticketnum",
)
TYPE_CHANGES = (
    # The documented way (docs/source.md, 'Changing a column's type'): after the table's
    # other DDL has been read (`boxoffice connector caught-up`), one type change per
    # column. Debezium 3.7 fails its task on a change written before a type change but
    # read after it, when a relation message comes first (the other DDL sends one):
    # tests/e2e/test_type_change_behind.py shows that failure and its recovery.
    "alter table {s}.venues alter column capacity type bigint",
    "alter table {s}.tickets alter column price type numeric(12, 2)",
)
BEYOND_INT32 = 3_000_000_000


def test_add_drop_unused_and_widen_under_sales_keep_everything_flowing(
        running_pipeline: Settings) -> None:
    settings = running_pipeline
    s = settings.source_schema
    dead_before = seeded_and_exact(settings, seed_value=7)

    with sales(settings, duration=20, seed=29):
        run_sql(settings, [statement.format(s=s) for statement in DDL])
        wait_caught_up(settings, deadline_seconds=60)
        run_sql(settings, [statement.format(s=s) for statement in TYPE_CHANGES])
        # Mid-stream, verify keeps working: it reads only the columns it compares.
        assert verify(settings).errors == []
        ((band,),) = run_sql(settings, [
            f"insert into {s}.bands (name) values ('The Evolving Schemas') returning id"])
        run_sql(settings, [
            f"update {s}.bands set name = name || ' (renamed)' where id = 1",
            f"update {s}.venues set capacity = {BEYOND_INT32}, city = 'Paris' where id = 1",
            f"update {s}.tickets set price = {BEYOND_INT32}, seat = 'A1' "
            f"where id = (select min(id) from {s}.tickets)",
            f"update {s}.tickets set price = price + 0.45 where id in (select id from "
            f"{s}.tickets order by id desc limit 30)",
            f"insert into {s}.tickets (price, performance_id, purchase_id) select 49.99, "
            f"performance_id, purchase_id from {s}.tickets where id = "
            f"(select min(id) from {s}.tickets)",
        ])

    report = verify_until(settings, wait_seconds=240)
    assert report.ok, explain(report, settings)
    assert report.result("totals").rows_compared > 0
    assert len(read_dead_letters(settings).records) == dead_before
    assert ticket_differences(settings) == []  # each ticket's price, to the cent
    ((source_revenue, cents),) = run_sql(settings, [
        f"select sum(price), count(*) filter (where price <> round(price)) from {s}.tickets"])
    assert int(cents) > 0  # type: ignore[call-overload]
    executor = ClientExecutor(clickhouse(settings))
    try:
        db = settings.clickhouse_database
        rows = executor.rows(f"SELECT name, fee FROM {db}.bands WHERE id = {band}")
        # a band inserted after the drop has no fee; the sales may have renamed it since
        ((name,),) = run_sql(settings, [f"select name from {s}.bands where id = {band}"])
        assert rows == [(name, None)]
        # the column added to a dimension appears in its table and its view, as text
        assert executor.rows(f"SELECT city FROM {db}.venues WHERE id = 1") == [("Paris",)]
        assert executor.rows(f"SELECT type FROM system.columns WHERE database = '{db}' AND "
                             "table = 'dim_venues' AND name = 'city'") == [("Nullable(String)",)]
        ((revenue,),) = executor.rows(f"SELECT sum(sign * ticket_price) FROM {db}."
                                      "fact_ticket_sales")
        assert exact_amount(revenue) == source_revenue
    finally:
        executor.client.close()
