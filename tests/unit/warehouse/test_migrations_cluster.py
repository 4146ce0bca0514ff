"""The cluster DDL: ON CLUSTER everywhere, Replicated engines, and ClickHouse parses it."""

from __future__ import annotations

import re

import pytest

from warehouse.cluster import ClusterOptions, to_cluster
from warehouse.executor import ChdbExecutor
from warehouse.migrate import bootstrap_statements, cluster_script, load_migrations
from warehouse.views import load_views

OPTIONS = ClusterOptions(name="festival")


def all_statements() -> list[str]:
    statements = bootstrap_statements("boxoffice", OPTIONS)
    for part in [*load_migrations(), *load_views()]:
        statements += part.statements("boxoffice", OPTIONS)
    return statements


def test_every_create_runs_on_the_cluster() -> None:
    for statement in all_statements():
        assert "ON CLUSTER 'festival'" in statement, statement


def test_every_merge_tree_is_replicated() -> None:
    for statement in all_statements():
        for engine in re.findall(r"ENGINE = (\w+)", statement):
            assert engine.startswith("Replicated"), statement
        assert "non_replicated_deduplication_window" not in statement


def test_engine_arguments_are_kept_after_keeper_path() -> None:
    ddl = ("CREATE TABLE IF NOT EXISTS db.t (a Int64, v UInt64, d UInt8) "
           "ENGINE = ReplacingMergeTree(v, d) ORDER BY a")
    assert to_cluster(ddl, OPTIONS) == (
        "CREATE TABLE IF NOT EXISTS db.t ON CLUSTER 'festival' (a Int64, v UInt64, d UInt8) "
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/"
        "{table}', '{replica}', v, d) ORDER BY a")
    summing = "CREATE TABLE db.s (k Int64, n Int64) ENGINE = SummingMergeTree((n)) ORDER BY k"
    assert "ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', " \
           "'{replica}', (n))" in to_cluster(summing, OPTIONS)


def test_views_and_materialized_views_get_on_cluster() -> None:
    mv = "CREATE MATERIALIZED VIEW IF NOT EXISTS db.mv TO db.t AS SELECT 1"
    assert to_cluster(mv, OPTIONS).startswith(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS db.mv ON CLUSTER 'festival' TO db.t")
    view = "CREATE OR REPLACE VIEW db.v AS SELECT 1"
    assert to_cluster(view, OPTIONS) == "CREATE OR REPLACE VIEW db.v ON CLUSTER 'festival' " \
                                        "AS SELECT 1"


def test_non_create_statements_are_unchanged() -> None:
    assert to_cluster("INSERT INTO db.t VALUES (1)", OPTIONS) == "INSERT INTO db.t VALUES (1)"


@pytest.mark.parametrize("statement", all_statements())
def test_clickhouse_parses_the_cluster_ddl(statement: str) -> None:
    executor = ChdbExecutor()
    quoted = statement.replace("\\", "\\\\").replace("'", "\\'")
    ((formatted,),) = executor.rows(f"SELECT formatQuerySingleLine('{quoted}')")
    assert "ON CLUSTER festival" in formatted or "ON CLUSTER 'festival'" in formatted


def test_script_is_complete() -> None:
    script = cluster_script("boxoffice", OPTIONS)
    assert script.count("ON CLUSTER") == len(all_statements())


def test_alter_table_gets_on_cluster() -> None:
    alter = "ALTER TABLE db.t ADD PROJECTION IF NOT EXISTS p (SELECT sum(n))"
    assert to_cluster(alter, OPTIONS) == \
        "ALTER TABLE db.t ON CLUSTER 'festival' ADD PROJECTION IF NOT EXISTS p (SELECT sum(n))"
