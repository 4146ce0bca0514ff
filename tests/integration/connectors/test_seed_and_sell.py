"""Seed and traffic against a real PostgreSQL (no connector involved)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connectors.db import connect
from connectors.errors import SourceError
from connectors.generator import generate
from connectors.seed import seed
from connectors.traffic import run_workload, sell
from contracts.settings import Settings
from contracts.tables import BUSINESS_TABLES
from tests.integration.connectors.conftest import fresh_source
from tests.support.sources import remove_source


def counts(settings: Settings) -> dict[str, int]:
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            out = {}
            for table in BUSINESS_TABLES:
                cur.execute(f"select count(*) from festival.{table}")
                out[table] = cur.fetchone()[0]
            return out
    finally:
        conn.close()


def fingerprint(settings: Settings) -> dict[str, str]:
    """md5 of each table's rows in id order, timestamps of live traffic excluded."""
    columns = {"bands": "id, name, fee", "venues": "id, name, capacity",
               "performances": "id, band_id, venue_id", "people": "id, name",
               "purchases": "id, person_id", "tickets": "id, price, performance_id, "
               "purchase_id, ticketnum"}
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            out = {}
            for table, cols in columns.items():
                cur.execute(f"select md5(string_agg(row({cols})::text, ',' order by id)) "
                            f"from festival.{table}")
                out[table] = cur.fetchone()[0]
            return out
    finally:
        conn.close()


def test_seed_loads_the_generated_history(source: Settings) -> None:
    result = seed(source, scale=0.01, seed_value=3)
    assert result.rows == generate(0.01, 3).row_counts()
    assert counts(source) == {t: result.rows[t] for t in BUSINESS_TABLES}
    conn = connect(source, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("select count(*) from festival.tickets t left join festival.purchases p "
                    "on p.id = t.purchase_id where p.id is null")
        assert cur.fetchone()[0] == 0
        cur.execute("insert into festival.bands (name, fee) values ('new', 50) returning id")
        assert cur.fetchone()[0] == result.rows["bands"] + 1  # identity moved past the seed
    conn.close()


def test_seed_refuses_a_loaded_source_unless_replacing(source: Settings) -> None:
    seed(source, scale=0.01, seed_value=1)
    with pytest.raises(SourceError, match="--replace"):
        seed(source, scale=0.01, seed_value=1)
    seed(source, scale=0.01, seed_value=2, replace=True)
    assert counts(source)["purchases"] == generate(0.01, 2).row_counts()["purchases"]


def test_workload_is_reproducible(postgres: Settings,
                                  unique_name: Callable[[str], str]) -> None:
    results, prints = [], []
    for _ in range(2):
        settings = fresh_source(postgres, unique_name("wl"))
        try:
            seed(settings, scale=0.01, seed_value=5)
            results.append(run_workload(settings, seed=11, steps=300))
            prints.append(fingerprint(settings))
        finally:
            remove_source(settings, with_connector=False)
    assert results[0].applied == results[1].applied
    assert prints[0] == prints[1]
    assert results[0].transactions + results[0].skipped == 300
    assert {a.kind for a in results[0].applied} >= {"purchase", "refund_ticket",
                                                    "price_correction"}


def test_sell_reports_the_rate_it_achieved(source: Settings) -> None:
    seed(source, scale=0.01)
    before = counts(source)
    result = sell(source, rate=40, duration=2.0, seed=1)
    assert result.transactions > 0
    assert result.rate == pytest.approx(result.transactions / result.seconds)
    assert counts(source)["purchases"] > before["purchases"] - result.by_kind[
        "refund_purchase"]
