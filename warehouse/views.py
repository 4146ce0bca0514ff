"""The current SQL of every plain view, one file each in warehouse/views.

A view holds no data, so unlike a table it can be replaced at any moment; what a reader
needs is its current text in one place, not the migration that last rewrote it. Every
`warehouse migrate` re-creates all of them after the migrations, for two reasons: a
changed file reaches every database without a new migration, and a view stores the
column types of its query when it is created, so a migration that changes a column type
(0012 made the ids LowCardinality) reaches the views that read the column.

ClickHouse checks a view's query against the tables when the view is created, so views
are created after the views they read (`ticket_sales` reads `bands` and `venues`).
Materialized views are not here: they write data, and stay in the migrations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from warehouse.cluster import ClusterOptions
from warehouse.ddl import render, run_file, split_statements
from warehouse.errors import MigrationError
from warehouse.executor import Executor

VIEWS_DIR = Path(__file__).resolve().parent / "views"
_FILE = re.compile(r"^([a-z][a-z0-9_]*)\.sql$")
_READS = re.compile(r"\{database\}\.([A-Za-z0-9_]+)")


@dataclass(frozen=True)
class View:
    name: str
    sql: str

    @property
    def reads(self) -> frozenset[str]:
        """Every table or view of the database the query names."""
        return frozenset(_READS.findall(self.sql)) - {self.name}

    def statements(self, database: str, cluster: ClusterOptions | None = None) -> list[str]:
        return render(self.sql, database, cluster)


def load_views(directory: Path = VIEWS_DIR) -> list[View]:
    """Every view file, in an order where each view comes after the views it reads."""
    views: list[View] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"view file {path.name} is not named <view>.sql")
        view = View(match.group(1), path.read_text())
        _check_one_view(view, path)
        views.append(view)
    return dependency_order(views)


def _check_one_view(view: View, path: Path) -> None:
    statements = split_statements(view.sql)
    expected = f"CREATE OR REPLACE VIEW {{database}}.{view.name} AS"
    if len(statements) != 1 or not statements[0].startswith(expected):
        raise MigrationError(
            f"view file {path} must hold one statement starting `{expected}`; put tables "
            "and materialized views in a new file of warehouse/migrations")


def dependency_order(views: list[View]) -> list[View]:
    """Views sorted so each follows the views it reads (by name among equals, so the
    order is the same on every run); refuses a cycle, which ClickHouse cannot create."""
    pending = {view.name: view for view in views}
    ordered: list[View] = []
    while pending:
        ready = sorted(name for name, view in pending.items() if not view.reads & set(pending))
        if not ready:
            raise MigrationError(
                f"views read each other in a cycle: {', '.join(sorted(pending))}; break it "
                "in warehouse/views")
        ordered += [pending.pop(name) for name in ready]
    return ordered


def view_statements(database: str, name: str) -> list[str]:
    """The current statement of one view (`warehouse/views/<name>.sql`), rendered."""
    path = VIEWS_DIR / f"{name}.sql"
    view = View(name, path.read_text())
    _check_one_view(view, path)
    return view.statements(database)


def apply_views(executor: Executor, database: str, views: list[View], *,
                cluster: ClusterOptions | None = None,
                progress: Callable[[str], None] = lambda _line: None) -> None:
    """Create or replace every view; each statement is atomic, so a reader sees the old
    or the new view, never none."""
    if views:
        progress(f"re-creating {len(views)} views from warehouse/views")
    for view in views:
        run_file(executor, view.statements(database, cluster),
                 file=f"view {view.name} (warehouse/views/{view.name}.sql)")
