"""Migrations apply in order, record themselves, and a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.warehouse.warehouse_chdb import migrated_database
from warehouse.ddl import split_statements
from warehouse.errors import MigrationError
from warehouse.executor import ChdbExecutor
from warehouse.migrate import Migration, load_migrations, migrate
from warehouse.views import load_views


@pytest.fixture(scope="module")
def executor() -> ChdbExecutor:
    return ChdbExecutor()


def schema(executor: ChdbExecutor, database: str) -> list[tuple[object, ...]]:
    return executor.rows(
        f"SELECT name, engine, create_table_query FROM system.tables "
        f"WHERE database = '{database}' ORDER BY name")


def test_files_are_ordered_and_numbered() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert versions[0] == 1


def test_second_run_changes_nothing(executor: ChdbExecutor) -> None:
    database = migrated_database(executor)
    before = schema(executor, database)
    recorded = executor.rows(f"SELECT count() FROM {database}.schema_migrations")
    assert migrate(executor, database) == []
    assert schema(executor, database) == before
    assert executor.rows(f"SELECT count() FROM {database}.schema_migrations") == recorded
    assert int(recorded[0][0]) == len(load_migrations())


def test_every_statement_is_idempotent_on_its_own(executor: ChdbExecutor) -> None:
    """A run interrupted mid-file is finished by running again: re-apply every statement."""
    database = migrated_database(executor)
    before = schema(executor, database)
    for part in [*load_migrations(), *load_views()]:
        for statement in part.statements(database):
            executor.command(statement)
    assert schema(executor, database) == before


def test_edited_migration_is_refused(executor: ChdbExecutor) -> None:
    database = migrated_database(executor)
    edited = [Migration(m.version, m.name, m.sql + "\n-- edited") for m in load_migrations()]
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(executor, database, migrations=edited)


def test_new_migration_is_applied_once(executor: ChdbExecutor, tmp_path: Path) -> None:
    database = migrated_database(executor)
    extra = Migration(999, "extra", "CREATE TABLE IF NOT EXISTS {database}.extra "
                                    "(x UInt8) ENGINE = MergeTree ORDER BY x;")
    assert migrate(executor, database, migrations=[*load_migrations(), extra]) == [999]
    assert migrate(executor, database, migrations=[*load_migrations(), extra]) == []


def test_split_statements_drops_comments() -> None:
    sql = "-- a comment; with a semicolon\nCREATE TABLE a (x UInt8);\n\nSELECT 1;\n"
    assert split_statements(sql) == ["CREATE TABLE a (x UInt8)", "SELECT 1"]


def test_bad_database_name_is_refused() -> None:
    with pytest.raises(MigrationError):
        load_migrations()[0].statements("x; DROP TABLE y")
