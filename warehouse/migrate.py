"""Apply the ordered SQL files of warehouse/migrations, record them, then re-create the views.

Migrations hold what keeps data: tables, materialized views, projections, indexes. Every
statement is idempotent on its own (IF NOT EXISTS), so a run interrupted half-way is
finished by running again. `schema_migrations` records version, name and checksum:
applied files are skipped, and a file edited after it was applied is refused (add a new
migration instead), so every server converges to the same schema.

One edit is allowed: taking out statements whose effect now comes from elsewhere (the
views, which moved to warehouse/views). Such a file names the checksum it had with a
first line `-- replaces checksum <old>`; a database that recorded the old checksum gets
the new one recorded and nothing run. Plain views are re-created on every run
(warehouse/views.py says why).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from warehouse.cluster import ClusterOptions
from warehouse.ddl import render, run_file
from warehouse.dedup_window import apply_dedup_window
from warehouse.errors import MigrationError
from warehouse.executor import Executor
from warehouse.server_version import require_tested_version
from warehouse.views import View, apply_views, load_views

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_REPLACES = re.compile(r"^-- replaces checksum ([0-9a-f]{16})\b", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    @property
    def replaces(self) -> frozenset[str]:
        """Checksums of earlier texts of this file that this one stands in for."""
        return frozenset(_REPLACES.findall(self.sql))

    def statements(self, database: str, cluster: ClusterOptions | None = None) -> list[str]:
        return render(self.sql, database, cluster)


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; refuses gaps in naming and duplicates."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations have version {version:04d}")
        found[version] = Migration(version, match.group(2), path.read_text())
    return [found[v] for v in sorted(found)]


def bootstrap_statements(database: str, cluster: ClusterOptions | None = None) -> list[str]:
    return render(
        f"""
        CREATE DATABASE IF NOT EXISTS {database};
        CREATE TABLE IF NOT EXISTS {database}.schema_migrations
        (
            version    UInt32,
            name       String,
            checksum   String,
            applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
        )
        ENGINE = ReplacingMergeTree
        ORDER BY version;
        """,
        database,
        cluster,
    )


def applied_versions(executor: Executor, database: str) -> dict[int, str]:
    rows = executor.rows(
        f"SELECT version, argMax(checksum, applied_at) FROM {database}.schema_migrations "
        "GROUP BY version")
    return {int(version): str(checksum) for version, checksum in rows}


def migrate(
    executor: Executor,
    database: str,
    *,
    cluster: ClusterOptions | None = None,
    migrations: list[Migration] | None = None,
    views: list[View] | None = None,
    progress: Callable[[str], None] = lambda _line: None,
    dedup_window_blocks: int | None = None,
) -> list[int]:
    """Apply the migrations not yet recorded, then re-create the views, then set the
    sink tables' deduplication window if one is given; returns the
    versions applied by this run. A caller that picks the migrations (a test, a bench
    building an older schema) picks the views too: by default none, since the current
    views may read tables its migrations do not create."""
    if views is None:
        views = load_views() if migrations is None else []
    require_tested_version(executor)
    for statement in bootstrap_statements(database, cluster):
        executor.command(statement)
    done = applied_versions(executor, database)
    applied: list[int] = []
    for migration in migrations if migrations is not None else load_migrations():
        recorded = done.get(migration.version)
        if recorded is not None:
            if recorded in migration.replaces:
                progress(f"recording {migration.version:04d}_{migration.name}'s new text "
                         "(it replaces the text applied here; nothing to run)")
                _record(executor, database, migration)
            elif recorded != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} changed after it "
                    f"was applied to {database}; revert the edit and add a new migration")
            continue
        progress(f"applying {migration.version:04d}_{migration.name}")
        run_file(executor, migration.statements(database, cluster),
                 file=f"migration {migration.version:04d}_{migration.name}")
        _record(executor, database, migration)
        applied.append(migration.version)
    apply_views(executor, database, views, cluster=cluster, progress=progress)
    if dedup_window_blocks is not None and cluster is None:
        for table in apply_dedup_window(executor, database, dedup_window_blocks):
            progress(f"{table}: remembers the last {dedup_window_blocks} insert tokens")
    return applied


def _record(executor: Executor, database: str, migration: Migration) -> None:
    executor.command(
        f"INSERT INTO {database}.schema_migrations (version, name, checksum) VALUES "
        f"({migration.version}, '{migration.name}', '{migration.checksum}')")


def cluster_script(database: str, cluster: ClusterOptions) -> str:
    """Every statement for a cluster, for review or for applying by hand."""
    statements = bootstrap_statements(database, cluster)
    for migration in load_migrations():
        statements += migration.statements(database, cluster)
    for view in load_views():
        statements += view.statements(database, cluster)
    return ";\n\n".join(statements) + ";\n"
