"""verify against real Postgres and ClickHouse: a warehouse loaded from the source's own
rows passes; one extra delta in one aggregate fails, naming that check and key."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from boxoffice.verify import verify
from connectors.seed import seed
from connectors.traffic import run_workload
from contracts.settings import REPO_ROOT, Settings
from tests.integration.operate.sources import (
    drop_source,
    fresh_source,
    load_warehouse,
    settings_env,
)
from warehouse.executor import ClientExecutor


@pytest.fixture
def pair(postgres: Settings, clickhouse: Settings, unique_name: Callable[[str], str]
         ) -> Iterator[tuple[Settings, ClientExecutor]]:
    settings = fresh_source(clickhouse, unique_name("verify"))
    seed(settings, scale=0.01, seed_value=7)
    run_workload(settings, 11, 60)  # live purchases (the minute window), refunds, moves
    executor = load_warehouse(settings)
    yield settings, executor
    executor.command(f"DROP DATABASE IF EXISTS {settings.clickhouse_database}")
    executor.client.close()
    drop_source(settings)


def run_cli(settings: Settings) -> tuple[int, dict[str, Any]]:
    code = ("import typer; from boxoffice.cli.operate import verify_command; "
            "typer.run(verify_command)")
    done = subprocess.run(
        [sys.executable, "-c", code, "--json"], cwd=REPO_ROOT, capture_output=True,
        timeout=300, env=settings_env(settings, "postgres_port", "postgres_db",
                                      "clickhouse_http_port", "clickhouse_database"))
    return done.returncode, json.loads(done.stdout)


def test_loaded_warehouse_matches_then_one_extra_delta_is_named(
        pair: tuple[Settings, ClientExecutor]) -> None:
    settings, executor = pair
    report = verify(settings)
    assert report.ok, report.as_dict()
    live = report.result("sales_by_minute_venue_live")
    assert live.rows_compared > 0  # the workload sold tickets in the last hour
    assert report.result("on_sale_rush").rows_compared > 0  # and in the last 14 minutes
    assert report.result("dim_bands").rows_compared > 0

    db = settings.clickhouse_database
    ((performance_id,),) = executor.rows(
        f"SELECT performance_id FROM {db}.agg_sales_by_performance "
        "GROUP BY performance_id ORDER BY performance_id LIMIT 1")
    executor.command(f"INSERT INTO {db}.agg_sales_by_performance VALUES "
                     f"({performance_id}, 1, 25)")
    broken = verify(settings)
    assert not broken.ok
    failing = {r.name for r in broken.results if not r.ok}
    # the live dashboard's sell-through reads the same aggregate: one ticket too many
    assert failing == {"sales_by_performance", "dq_table_counts", "sell_through"}
    (through,) = broken.result("sell_through").samples
    assert through.key == (performance_id,)
    assert through.found is not None and through.expected is not None
    assert through.found[2] - through.expected[2] == 1
    result = broken.result("sales_by_performance")
    assert result.mismatches == 1
    (sample,) = result.samples
    assert sample.key == (performance_id,)
    assert sample.found is not None and sample.expected is not None
    assert (sample.found[0] - sample.expected[0], sample.found[1] - sample.expected[1]) \
        == (1, 25)

    code, data = run_cli(settings)
    assert code == 1
    bad = [c for c in data["checks"] if not c["ok"]]
    assert {c["check"] for c in bad} == failing
    executor.command(f"INSERT INTO {db}.agg_sales_by_performance VALUES "
                     f"({performance_id}, -1, -25)")
    code, data = run_cli(settings)
    assert (code, data["ok"]) == (0, True)


def test_a_sale_missing_from_the_rush_is_named_with_its_ten_seconds(
        pair: tuple[Settings, ClientExecutor]) -> None:
    """The on-sale rush sums the facts themselves: a retraction stored for a ticket still
    sold at the source lowers the 10 seconds it was bought in, and verify names them."""
    settings, executor = pair
    db = settings.clickhouse_database
    rows = executor.rows(
        f"SELECT ticket_id, toString(toStartOfInterval(purchase_date, INTERVAL 10 SECOND)) "
        f"FROM {db}.ticket_sales_current FINAL WHERE is_deleted = 0 AND purchase_date >= "
        f"now64(6) - INTERVAL 10 MINUTE ORDER BY purchase_date DESC LIMIT 1")
    assert rows, "the workload sold tickets in the last 10 minutes"
    ((ticket_id, bucket),) = rows
    columns = ("ticket_id, purchase_id, performance_id, band_id, venue_id, person_key, "
               "ticket_price, purchase_date, performance_start, festival_year, source_ts_ms")
    (values,) = executor.rows(
        f"SELECT {', '.join(f'toString({c})' for c in columns.split(', '))}, version "
        f"FROM {db}.fact_ticket_sales WHERE ticket_id = {ticket_id} AND sign = 1 "
        f"ORDER BY version DESC LIMIT 1")
    listed = ", ".join(f"'{v}'" for v in values[:-1])
    executor.command(f"INSERT INTO {db}.fact_ticket_sales ({columns}, sign, version) "
                     f"VALUES ({listed}, -1, {int(values[-1]) + 1})")
    broken = verify(settings)
    rush = broken.result("on_sale_rush")
    assert not rush.ok
    (sample,) = rush.samples
    assert sample.key == (bucket,)
    assert sample.expected is not None
    found = sample.found or (0, 0)  # its only ticket: the view leaves the 10 seconds out
    assert sample.expected[0] - found[0] == 1


def test_verify_role_is_read_only(pair: tuple[Settings, ClientExecutor]) -> None:
    settings, _ = pair
    assert verify(settings).ok  # creates the role on first use
    import psycopg2

    from connectors.db import connect

    conn = connect(settings, user=settings.verify_user,
                   password=settings.secret("verify_password"))
    try:
        with pytest.raises(psycopg2.Error), conn.cursor() as cur:
            cur.execute(f"delete from {settings.source_schema}.tickets")
    finally:
        conn.close()
