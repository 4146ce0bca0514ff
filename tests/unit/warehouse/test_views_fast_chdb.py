"""The fast forms of the Superset views (warehouse/views, over the projections of
migrations 0008 and 0010 and the LowCardinality ids of 0012) change not one answer: each
view equals its defining question asked the slow way (joins, GROUP BY over every row),
also with a renamed band, a deleted venue and parts merged or not (in-process
ClickHouse)."""

from __future__ import annotations

import json

import pytest

from contracts.columns import exact_amount
from tests.unit.warehouse.test_aggregates_chdb import load
from tests.unit.warehouse.warehouse_chdb import insert_lines, migrated_database
from warehouse.executor import ChdbExecutor
from warehouse.synthetic import Workload


@pytest.fixture(scope="module")
def executor() -> ChdbExecutor:
    return ChdbExecutor()


def rows(executor: ChdbExecutor, sql: str) -> list[tuple[object, ...]]:
    return sorted(executor.rows(sql), key=repr)


def reference_ticket_sales(db: str) -> str:
    return (f"SELECT t.ticket_id, t.performance_id, b.name, v.name, t.performance_start, "
            f"t.purchase_date, v.capacity, t.ticket_price, t.festival_year "
            f"FROM {db}.ticket_sales_current AS t FINAL "
            f"LEFT JOIN {db}.bands AS b ON b.id = t.band_id "
            f"LEFT JOIN {db}.venues AS v ON v.id = t.venue_id")


def check_views(executor: ChdbExecutor, db: str) -> None:
    assert rows(executor, f"SELECT * FROM {db}.ticket_sales") == \
        rows(executor, reference_ticket_sales(db))
    facts = f"(SELECT * FROM {db}.fact_ticket_sales)"
    assert rows(executor, f"SELECT venue_name, tickets, revenue FROM {db}.sales_per_venue") == \
        rows(executor, f"SELECT v.name, f.n, f.r FROM (SELECT venue_id, sum(sign) AS n, "
                       f"sum(sign * ticket_price) AS r FROM {facts} GROUP BY venue_id "
                       f"HAVING n != 0 OR r != 0) AS f "
                       f"LEFT JOIN {db}.venues AS v ON v.id = f.venue_id")
    assert rows(executor, f"SELECT band_name, venue_name, tickets, revenue "
                          f"FROM {db}.avg_ticket_price_by_band_venue") == \
        rows(executor, f"SELECT b.name, v.name, f.n, f.r FROM (SELECT venue_id, band_id, "
                       f"sum(sign) AS n, sum(sign * ticket_price) AS r FROM {facts} "
                       f"GROUP BY venue_id, band_id HAVING n > 0) AS f "
                       f"LEFT JOIN {db}.bands AS b ON b.id = f.band_id "
                       f"LEFT JOIN {db}.venues AS v ON v.id = f.venue_id")
    assert rows(executor, f"SELECT sale_date, venue_name, tickets, revenue "
                          f"FROM {db}.ticket_sales_over_time") == \
        rows(executor, f"SELECT f.d, v.name, f.n, f.r FROM (SELECT toDate(purchase_date) "
                       f"AS d, venue_id, sum(sign) AS n, sum(sign * ticket_price) AS r "
                       f"FROM {facts} GROUP BY d, venue_id HAVING n != 0 OR r != 0) AS f "
                       f"LEFT JOIN {db}.venues AS v ON v.id = f.venue_id")
    deltas = f"{db}.ticket_sales_deltas"
    assert rows(executor, f"SELECT festival_year, purchase_day, venue_name, sum(sign), "
                          f"sum(signed_price) FROM {deltas} GROUP BY ALL "
                          f"HAVING sum(sign) != 0 OR sum(signed_price) != 0") == \
        rows(executor, f"SELECT t.festival_year, toDate(t.purchase_date), v.name, count(), "
                       f"sum(t.ticket_price) FROM {db}.ticket_sales_current AS t FINAL "
                       f"LEFT JOIN {db}.venues AS v ON v.id = t.venue_id GROUP BY ALL")
    assert rows(executor, f"SELECT festival_year, band_name, venue_name, sum(sign), "
                          f"sum(signed_price) FROM {deltas} GROUP BY ALL "
                          f"HAVING sum(sign) != 0") == \
        rows(executor, f"SELECT festival_year, band_name, venue_name, count(), "
                       f"sum(ticket_price) FROM {db}.ticket_sales GROUP BY ALL")
    counts = {r[0]: r[1:] for r in executor.rows(f"SELECT * FROM {db}.dq_table_counts")}
    ((tickets, revenue),) = executor.rows(
        f"SELECT sum(sign), sum(sign * ticket_price) FROM {facts}")
    for table in ("fact_ticket_sales", "ticket_sales_current", "agg_sales_by_performance",
                  "agg_sales_by_day_venue_band", "agg_sales_by_minute_venue"):
        assert (int(counts[table][1]), exact_amount(counts[table][2])) == \
            (int(tickets), exact_amount(revenue))
    for table in ("bands", "venues", "performances"):
        ((current,),) = executor.rows(f"SELECT count() FROM {db}.{table}")
        assert int(counts[table][0]) == int(current)


def test_views_answer_as_their_slow_definitions(executor: ChdbExecutor) -> None:
    db = migrated_database(executor)
    workload = Workload(seed=41)
    workload.add_dimensions(bands=15, venues=5, performances=40)
    load(executor, db, workload, 2500)
    check_views(executor, db)
    # a band renamed, a venue deleted: names join at query time, unknown ones are ''/0
    insert_lines(executor, db, "dim_bands", [json.dumps(
        {"id": 1, "name": "Renamed", "fee": 100, "version": 10**9, "is_deleted": 0,
         "source_ts_ms": 0}).encode()])
    insert_lines(executor, db, "dim_venues", [json.dumps(
        {"id": 2, "name": "", "capacity": 0, "version": 10**9, "is_deleted": 1,
         "source_ts_ms": 0}).encode()])
    check_views(executor, db)
    assert executor.rows(f"SELECT count() FROM {db}.ticket_sales WHERE venue_name = ''") \
        != [(0,)]
    for table in ("fact_ticket_sales", "ticket_sales_current", "agg_sales_by_day_venue_band",
                  "agg_sales_by_minute_venue", "agg_sales_by_performance"):
        executor.command(f"OPTIMIZE TABLE {db}.{table} FINAL")
    check_views(executor, db)


def test_projections_are_used(executor: ChdbExecutor) -> None:
    db = migrated_database(executor)
    workload = Workload(seed=42)
    workload.add_dimensions()
    load(executor, db, workload, 200)
    plan = "\n".join(str(r[0]) for r in executor.rows(
        f"EXPLAIN SELECT * FROM {db}.sales_per_venue"))
    assert "ReadFromMergeTree (p_" in plan  # p_venue_band or p_day_venue
    plan = "\n".join(str(r[0]) for r in executor.rows(
        f"EXPLAIN SELECT sum(sign), sum(sign * ticket_price) FROM {db}.fact_ticket_sales"))
    assert "p_totals" in plan
    # the dashboards' questions of ticket_sales_deltas, as Superset words them
    for question, projection in (
        ("SELECT toStartOfMonth(purchase_day) AS m, sum(sign) FROM {t} "
         "WHERE festival_year IN (2003, 2004) GROUP BY m", "p_year_day_venue"),
        ("SELECT venue_name, sum(sign) FROM {t} GROUP BY venue_name", "p_year_"),
        ("SELECT band_name, venue_name, sum(signed_price) / sum(sign), sum(sign) FROM {t} "
         "WHERE venue_name = 'x' GROUP BY band_name, venue_name", "p_year_venue_band"),
    ):
        plan = "\n".join(str(r[0]) for r in executor.rows(
            "EXPLAIN " + question.format(t=f"{db}.ticket_sales_deltas")))
        assert f"({projection}" in plan, question  # ReadFrom...(projection)


def test_ticket_sales_groups_by_low_cardinality_names(executor: ChdbExecutor) -> None:
    """What keeps the venue x band question of `ticket_sales` fast (0012): the ids are
    stored LowCardinality and the view passes the names on as LowCardinality. A later
    migration that re-creates the table or the view without it would lose that silently."""
    db = migrated_database(executor)
    types = dict(executor.rows(
        f"SELECT name, type FROM system.columns WHERE database = '{db}' "
        f"AND table = 'ticket_sales' AND name IN ('band_name', 'venue_name', 'capacity')"))
    assert types == {"band_name": "LowCardinality(String)",
                     "venue_name": "LowCardinality(String)",
                     "capacity": "LowCardinality(Int64)"}


def test_repeated_deltas_are_exactly_the_stored_repeats(executor: ChdbExecutor) -> None:
    db = migrated_database(executor)
    workload = Workload(seed=43)
    workload.add_dimensions()
    deltas = workload.script(300)
    lines = [row.to_json() for row in deltas]
    insert_lines(executor, db, "fact_ticket_sales", lines, token="all")
    insert_lines(executor, db, "fact_ticket_sales", lines[:7], token="again")  # re-emitted
    insert_lines(executor, db, "fact_ticket_sales", lines[:2], token="third")
    found = rows(executor, f"SELECT * FROM {db}.dq_repeated_deltas")
    assert found == rows(executor, f"SELECT ticket_id, version, sign, count() AS copies "
                                   f"FROM {db}.fact_ticket_sales GROUP BY ticket_id, "
                                   f"version, sign HAVING copies > 1")
    assert sorted(int(str(r[3])) for r in found) == [2] * 5 + [3] * 2


def test_the_last_day_view_finds_todays_repeats_with_all_their_copies(
    executor: ChdbExecutor,
) -> None:
    """Repeats stored today show in dq_repeated_deltas_last_day, with their older copies;
    a repeat whose copies are all older than a day only in the full audit view."""
    db = migrated_database(executor)
    workload = Workload(seed=44)
    workload.add_dimensions()
    lines = [row.to_json() for row in workload.script(300)]
    stamped = [json.dumps({**json.loads(line), "ingested_at": "2020-01-01 00:00:00.000"})
               .encode() for line in lines]
    insert_lines(executor, db, "fact_ticket_sales", stamped, token="history")
    insert_lines(executor, db, "fact_ticket_sales", stamped[:3], token="old_repeat")
    insert_lines(executor, db, "fact_ticket_sales", lines[10:14], token="today")  # repeats
    recent = rows(executor, f"SELECT * FROM {db}.dq_repeated_deltas_last_day")
    everything = rows(executor, f"SELECT * FROM {db}.dq_repeated_deltas")
    today = {(json.loads(line)["ticket_id"], json.loads(line)["version"],
              json.loads(line)["sign"]) for line in lines[10:14]}
    assert {(int(str(r[0])), int(str(r[1])), int(str(r[2]))) for r in recent} == today
    assert all(int(str(r[3])) == 2 for r in recent)
    assert len(everything) == len(recent) + 3
    # today's tickets are found through the skip index, their copies through the key
    plan = "\n".join(str(r[0]) for r in executor.rows(
        f"EXPLAIN indexes = 1 SELECT ticket_id FROM {db}.fact_ticket_sales "
        f"WHERE ingested_at >= now64(3) - INTERVAL 1 DAY"))
    assert "ix_ingested_at" in plan
    plan = "\n".join(str(r[0]) for r in executor.rows(
        f"EXPLAIN indexes = 1 SELECT * FROM {db}.dq_repeated_deltas_last_day"))
    assert "Condition: (ticket_id in" in plan
