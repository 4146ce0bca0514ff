"""How a SQL file of the warehouse becomes statements for one database.

Migrations and views are written once, with `{database}` where the database name goes,
so the same files build the live database, a replay's shadow and every test database.
"""

from __future__ import annotations

import re

from warehouse.cluster import ClusterOptions, to_cluster
from warehouse.errors import MigrationError
from warehouse.executor import Executor


def split_statements(sql: str) -> list[str]:
    """Statements of a file: `--` comment lines dropped, split at a `;` ending a line."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    parts = re.split(r";\s*(?:\n|$)", "\n".join(lines))
    return [part.strip() for part in parts if part.strip()]


def render(sql: str, database: str, cluster: ClusterOptions | None = None) -> list[str]:
    """The file's statements for `database`; the name is refused unless it is a plain
    identifier, because it is pasted into DDL."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
        raise MigrationError(f"database name {database!r} is not a plain identifier")
    statements = split_statements(sql.replace("{database}", database))
    return [to_cluster(s, cluster) for s in statements] if cluster else statements


def run_file(executor: Executor, statements: list[str], *, file: str) -> None:
    """Run a file's statements in order; a failure names the file and the statement, and
    says that running again is safe (every statement is idempotent)."""
    for statement in statements:
        try:
            executor.command(statement)
        except Exception as exc:
            raise MigrationError(
                f"{file} failed on statement:\n{statement}\nClickHouse said: {exc}\nFix the "
                "file and run `boxoffice warehouse migrate` again (applied statements are "
                "idempotent).") from exc
