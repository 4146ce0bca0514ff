"""Apply the ordered SQL files of warehouse/migrations and record what was applied.

Every statement in a migration is idempotent on its own (IF NOT EXISTS, OR REPLACE), so
a run interrupted half-way is finished by simply running again. `schema_migrations`
records version, name and checksum: applied files are skipped, and a file edited after it
was applied is refused (add a new migration instead), so every server converges to the
same schema.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from warehouse.cluster import ClusterOptions, to_cluster
from warehouse.errors import MigrationError
from warehouse.executor import Executor

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

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


def split_statements(sql: str) -> list[str]:
    """Statements of a file: `--` comment lines dropped, split at a `;` ending a line."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    parts = re.split(r";\s*(?:\n|$)", "\n".join(lines))
    return [part.strip() for part in parts if part.strip()]


def render(sql: str, database: str, cluster: ClusterOptions | None = None) -> list[str]:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
        raise MigrationError(f"database name {database!r} is not a plain identifier")
    statements = split_statements(sql.replace("{database}", database))
    return [to_cluster(s, cluster) for s in statements] if cluster else statements


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
    progress: Callable[[str], None] = lambda _line: None,
) -> list[int]:
    """Apply the migrations not yet recorded; returns the versions applied by this run."""
    for statement in bootstrap_statements(database, cluster):
        executor.command(statement)
    done = applied_versions(executor, database)
    applied: list[int] = []
    for migration in migrations if migrations is not None else load_migrations():
        recorded = done.get(migration.version)
        if recorded is not None:
            if recorded != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} changed after it "
                    f"was applied to {database}; revert the edit and add a new migration")
            continue
        progress(f"applying {migration.version:04d}_{migration.name}")
        for statement in migration.statements(database, cluster):
            try:
                executor.command(statement)
            except Exception as exc:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} failed on "
                    f"statement:\n{statement}\nClickHouse said: {exc}\nFix the file and "
                    "run `boxoffice warehouse migrate` again (applied statements are "
                    "idempotent).") from exc
        executor.command(
            f"INSERT INTO {database}.schema_migrations (version, name, checksum) VALUES "
            f"({migration.version}, '{migration.name}', '{migration.checksum}')")
        applied.append(migration.version)
    return applied


def cluster_script(database: str, cluster: ClusterOptions) -> str:
    """Every statement for a cluster, for review or for applying by hand."""
    statements = bootstrap_statements(database, cluster)
    for migration in load_migrations():
        statements += migration.statements(database, cluster)
    return ";\n\n".join(statements) + ";\n"
