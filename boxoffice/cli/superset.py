"""`boxoffice superset bootstrap`: connection, admin and dashboards for a running Superset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boxoffice.cli.common import console, progress_printer, settings, user_errors

app = typer.Typer(no_args_is_help=True, help="Superset: the dashboards and SQL Lab.")


@app.callback()
def superset() -> None:
    """Superset: the dashboards and SQL Lab (a group, so `bootstrap` keeps its name)."""


@app.command()
def bootstrap(
    dashboards: Annotated[Path | None, typer.Option(
        help="dashboard bundle directory (default: superset/dashboards in the repo)")] = None,
    force_metadata: Annotated[bool, typer.Option(
        help="re-run db upgrade, init and the admin user even if done for this version")
    ] = False,
) -> None:
    """Make Superset ready: metadata, admin user, ClickHouse connection, dashboards."""
    from boxoffice.bi.bootstrap import DASHBOARDS_DIR
    from boxoffice.bi.bootstrap import bootstrap as run_bootstrap

    with user_errors():
        s = settings()
        result = run_bootstrap(s, dashboards_dir=dashboards or DASHBOARDS_DIR,
                               force_metadata=force_metadata, progress=progress_printer())
        console.print(f"superset ready at {s.superset_url} (user {s.superset_admin_user}, "
                      f"database id {result.database_id})")
