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
