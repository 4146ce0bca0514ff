"""`boxoffice warehouse migrate | cluster-ddl | users-sql` and `boxoffice sink`: wiring only."""

from __future__ import annotations

import typer

from boxoffice.cli.common import console, progress_printer, settings, user_errors

app = typer.Typer(no_args_is_help=True, help="ClickHouse schema and users.")


@app.command()
def migrate(
    database: str = typer.Option(None, help="default: the configured database"),
) -> None:
    """Apply the migrations not yet applied (idempotent; records versions), then
    re-create every view from warehouse/views."""
    from warehouse.errors import WarehouseError
    from warehouse.executor import ClientExecutor, connect
    from warehouse.migrate import migrate as run

    with user_errors():
        s = settings()
        try:
            executor = ClientExecutor(connect(s))
        except Exception as exc:
            raise WarehouseError(
                f"clickhouse: cannot connect to {s.clickhouse_url} as {s.clickhouse_user} "
                f"({exc}); start it with `boxoffice stack up clickhouse`") from exc
        applied = run(executor, database or s.clickhouse_database,
                      progress=progress_printer(),
                      dedup_window_blocks=s.clickhouse_dedup_window_blocks)
        console.print(f"warehouse: applied {len(applied)} migration(s); views re-created"
                      if applied else "warehouse: tables already up to date; views re-created")


@app.command("cluster-ddl")
def cluster_ddl(
    cluster: str = typer.Argument(..., help="cluster name from the servers' remote_servers"),
    database: str = typer.Option(None, help="default: the configured database"),
) -> None:
    """Print the schema as ON CLUSTER DDL with Replicated engines (for review or apply)."""
    from warehouse.cluster import ClusterOptions
    from warehouse.migrate import cluster_script

    with user_errors():
        print(cluster_script(database or settings().clickhouse_database,
                             ClusterOptions(name=cluster)))


@app.command("users-sql")
def users_sql() -> None:
    """Print CREATE USER / GRANT / QUOTA statements for a server with SQL access control."""
    from warehouse.users import create_user_statements

    with user_errors():
        for statement in create_user_statements(settings()):
            print(f"{statement};")


def sink() -> None:
    """Run the exactly-once sink (Kafka facts, heartbeats, dimensions -> ClickHouse)."""
    from warehouse.sink.app import run_sink

    with user_errors():
        run_sink(settings())
