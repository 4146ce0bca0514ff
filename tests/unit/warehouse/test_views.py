"""Each view's current SQL lives in one file of warehouse/views, and `migrate` re-creates
them all after the migrations, in an order ClickHouse accepts (in-process ClickHouse)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.warehouse.warehouse_chdb import migrated_database
from warehouse.ddl import split_statements
from warehouse.errors import MigrationError
from warehouse.executor import ChdbExecutor
from warehouse.migrate import Migration, applied_versions, load_migrations, migrate
from warehouse.views import View, dependency_order, load_views

_PLAIN_VIEW = re.compile(r"\bCREATE\s+(OR\s+REPLACE\s+)?VIEW\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def executor() -> ChdbExecutor:
    return ChdbExecutor()


def view_names(executor: ChdbExecutor, database: str) -> set[str]:
    return {str(name) for (name,) in executor.rows(
        f"SELECT name FROM system.tables WHERE database = '{database}' AND engine = 'View'")}


def test_migrations_create_no_plain_view() -> None:
    for migration in load_migrations():
        for statement in split_statements(migration.sql):
            assert not _PLAIN_VIEW.search(statement), (migration.name, statement)


def test_each_view_follows_the_views_it_reads() -> None:
    views = load_views()
    names = [view.name for view in views]
    assert len(names) == len(set(names)) >= 16
    for position, view in enumerate(views):
        for read in view.reads & set(names):
            assert names.index(read) < position, (view.name, read)
    assert names.index("bands") < names.index("ticket_sales")


def test_a_cycle_is_refused() -> None:
    a = View("a", "CREATE OR REPLACE VIEW {database}.a AS SELECT * FROM {database}.b;")
    b = View("b", "CREATE OR REPLACE VIEW {database}.b AS SELECT * FROM {database}.a;")
    with pytest.raises(MigrationError, match="cycle: a, b"):
        dependency_order([a, b])


@pytest.mark.parametrize("text", [
    "CREATE TABLE {database}.oops (x UInt8) ENGINE = Memory;",
    "CREATE OR REPLACE VIEW {database}.another_name AS SELECT 1;",
    "CREATE OR REPLACE VIEW {database}.oops AS SELECT 1;\nSELECT 2;",
])
def test_a_file_that_is_not_one_view_of_its_name_is_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "oops.sql").write_text(text)
    with pytest.raises(MigrationError, match=r"oops\.sql must hold one statement"):
        load_views(tmp_path)


def test_migrate_creates_every_view(executor: ChdbExecutor) -> None:
    database = migrated_database(executor)
    assert view_names(executor, database) == {view.name for view in load_views()}


def test_a_dropped_or_changed_view_is_restored_by_the_next_run(executor: ChdbExecutor) -> None:
    database = migrated_database(executor)
    executor.command(f"DROP VIEW {database}.ticket_sales")
    changed = View("people", "CREATE OR REPLACE VIEW {database}.people AS "
                              "SELECT id, 1 AS marker FROM {database}.dim_people FINAL;")
    migrate(executor, database, migrations=load_migrations(), views=[changed])
    assert "ticket_sales" not in view_names(executor, database)
    assert executor.rows(f"SELECT count() FROM system.columns WHERE database = '{database}' "
                         "AND table = 'people' AND name = 'marker'") == [(1,)]
    assert migrate(executor, database) == []
    assert view_names(executor, database) == {view.name for view in load_views()}
    assert executor.rows(f"SELECT count() FROM system.columns WHERE database = '{database}' "
                         "AND table = 'people' AND name = 'marker'") == [(0,)]


def test_an_install_of_the_older_text_records_the_new_one(executor: ChdbExecutor) -> None:
    """A database migrated when a file still held its views: the file now names the old
    checksum, so the run records the new one and changes nothing else."""
    database = migrated_database(executor)
    table = ("CREATE TABLE IF NOT EXISTS {database}.extra (x UInt8) ENGINE = MergeTree "
             "ORDER BY x;\n")
    older = Migration(900, "extra", table + "CREATE OR REPLACE VIEW {database}.extra_view "
                                            "AS SELECT x FROM {database}.extra;\n")
    assert migrate(executor, database, migrations=[older]) == [900]
    newer = Migration(900, "extra", f"-- replaces checksum {older.checksum}: the view lives "
                                    f"elsewhere\n{table}")
    assert migrate(executor, database, migrations=[newer]) == []
    assert applied_versions(executor, database)[900] == newer.checksum
    assert migrate(executor, database, migrations=[newer]) == []


def test_an_edit_that_names_another_checksum_is_refused(executor: ChdbExecutor) -> None:
    """Negative control for the test above: only the recorded text can be replaced."""
    database = migrated_database(executor)
    older = Migration(901, "extra", "SELECT 1;\n")
    migrate(executor, database, migrations=[older])
    newer = Migration(901, "extra", "-- replaces checksum 0123456789abcdef: not it\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(executor, database, migrations=[newer])


LEGACY_COMMIT = "779850d"
"""The last commit whose migrations still created the views themselves."""
LEGACY_VERSIONS = 12
"""The migrations that commit had; the upgrade applies the ones added since."""
CHANGED_SINCE = {
    "fee Nullable(Int64)": "fee Int64",
    "`ticket_price` Decimal(18, 2)": "`ticket_price` Int64",
    "`revenue` Decimal(18, 2)": "`revenue` Int64",
    "`revenue` Decimal(38, 2)": "`revenue` Int64",
    "`signed_price` Decimal(18, 2)": "`signed_price` Int64",
    "toFloat64(a.revenue) / a.tickets": "a.revenue / a.tickets",
    ", `cdc_ts_ms` Int64 DEFAULT -1, `source_lsn` Int64 DEFAULT -1)": ")",
    ", INDEX ix_purchase_date purchase_date TYPE minmax GRANULARITY 1": "",
    **{f"SELECT * EXCEPT (version, is_deleted, source_ts_ms, ingested_at) FROM "
       f"live.dim_{table} FINAL": f"SELECT {columns} FROM live.dim_{table} FINAL"
       for table, columns in (("bands", "id, name, fee"), ("venues", "id, name, capacity"),
                              ("performances", "id, performance_start, band_id, venue_id"))},
}
"""What changed since in the tables (0013: a band's fee may be NULL; 0014: prices and
revenue to the cent, and the average price stays a float; 0015: heartbeats carry their
Kafka time; 0016: the facts' purchase_date index; 0017: heartbeats carry their LSN) and
in the dimensions' views (every column but the bookkeeping, so columns added at the source
show: the views' column lists stay the same); undone before the schemas are compared."""


ADDED_SINCE = {"sell_through", "on_sale_rush", "sink_topic_ids"}
"""Views added since (the live dashboard's sell-through and on-sale rush) and the sink's
record of topic ids (migration 0018); left out before comparing."""


REWRITTEN_SINCE = {"pipeline_freshness"}
"""Views whose text changed since (freshness also names the as-of LSN): compared by
presence only."""


def without_rewritten(schema: list[list[str]]) -> list[list[str]]:
    return [[name, "rewritten" if name in REWRITTEN_SINCE else query] for name, query in schema]


def undo_changes_since(schema: list[list[str]]) -> list[list[str]]:
    out = []
    for name, query in without_rewritten(schema):
        if name in ADDED_SINCE:
            continue
        for new, old in CHANGED_SINCE.items():
            query = query.replace(new, old).replace(new.replace("fee", "`fee`"),
                                                    old.replace("fee", "`fee`"))
        out.append([name, query])
    return out

_MIGRATE_AND_DESCRIBE = """
import json, sys
from chdb import session
from warehouse.executor import ChdbExecutor
from warehouse.migrate import applied_versions, migrate
executor = ChdbExecutor(session.Session(sys.argv[1]))
applied = migrate(executor, "live")
schema = executor.rows("SELECT name, create_table_query FROM system.tables "
                       "WHERE database = 'live' AND name != 'schema_migrations' ORDER BY name")
print(json.dumps({"applied": applied, "schema": [[str(c) for c in row] for row in schema],
                  "checksums": applied_versions(executor, "live")}))
"""


def migrate_with(code_root: Path, database_dir: Path) -> dict[str, object]:
    """Run `migrate` of the code under `code_root` in its own process: chdb holds one
    data directory per process, and the two trees' modules share names."""
    done = subprocess.run([sys.executable, "-c", _MIGRATE_AND_DESCRIBE, str(database_dir)],
                          env={**os.environ, "PYTHONPATH": str(code_root)}, cwd=code_root,
                          capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_database_migrated_by_the_older_files_takes_the_new_ones(tmp_path: Path) -> None:
    """The real upgrade: the schema the old files built, migrated by the current files,
    keeps every table and view as it was (but for what the migrations added since
    change), runs only those migrations, and records the new checksums."""
    root = Path(__file__).resolve().parents[3]
    if subprocess.run(["git", "-C", str(root), "cat-file", "-e", f"{LEGACY_COMMIT}^{{commit}}"],
                      capture_output=True).returncode != 0:
        pytest.skip(f"commit {LEGACY_COMMIT} is not in this clone's history")
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    archive = subprocess.run(["git", "-C", str(root), "archive", LEGACY_COMMIT, "warehouse",
                              "contracts"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(legacy)], input=archive, check=True)
    database_dir = tmp_path / "chdb"

    before = migrate_with(legacy, database_dir)
    after = migrate_with(root, database_dir)

    assert before["applied"] == list(range(1, LEGACY_VERSIONS + 1))
    assert after["applied"] == [m.version for m in load_migrations()
                                if m.version > LEGACY_VERSIONS]
    assert after["schema"] != before["schema"]
    assert undo_changes_since(after["schema"]) == \
        without_rewritten(before["schema"])  # type: ignore[arg-type]
    assert after["checksums"] == {str(m.version): m.checksum for m in load_migrations()}
    assert after["checksums"] != before["checksums"]
