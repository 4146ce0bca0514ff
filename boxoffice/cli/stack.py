"""`boxoffice stack up | down | status`: the infrastructure processes."""

from __future__ import annotations

import json
import shutil
from typing import Annotated

import typer
from rich.table import Table

from boxoffice.cli.common import console, progress_printer, settings, user_errors
from boxoffice.stack.components import stack_components
from boxoffice.stack.supervisor import Supervisor

app = typer.Typer(no_args_is_help=True, help="Start, stop and inspect the local services.")


def _supervisor() -> Supervisor:
    s = settings()
    return Supervisor(settings=s, components=stack_components(s))


@app.command()
def install(
    only: Annotated[list[str] | None, typer.Argument(help="components (default: all)")] = None,
) -> None:
    """Download what the components need (jars, virtualenvs, packages); idempotent."""
    with user_errors():
        _supervisor().install(only or None, progress=progress_printer())


@app.command()
def up(
    only: Annotated[list[str] | None, typer.Argument(help="components (default: all)")] = None,
    fresh: Annotated[bool, typer.Option(help="wipe data and logs first")] = False,
) -> None:
    """Start every component that is not running; idempotent."""
    with user_errors():
        supervisor = _supervisor()
        if fresh:
            supervisor.down()
            shutil.rmtree(supervisor.settings.data_dir, ignore_errors=True)
            shutil.rmtree(supervisor.settings.logs_dir, ignore_errors=True)
        started = supervisor.up(only or None, progress=progress_printer())
        console.print(f"stack up: started {', '.join(started) or 'nothing (all running)'}")


@app.command()
def down(
    only: Annotated[list[str] | None, typer.Argument(help="components (default: all)")] = None,
) -> None:
    """Stop what the stack started, by pid; data is kept."""
    with user_errors():
        _supervisor().down(only or None, progress=progress_printer())


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Each component: running, healthy, pid, ports and log file."""
    with user_errors():
        rows = _supervisor().status()
        if as_json:
            console.print_json(json.dumps([r.as_dict() for r in rows]))
        else:
            table = Table("component", "state", "pid", "ports", "log")
            for r in rows:
                state = ("[green]healthy" if r.healthy else
                         "[yellow]unhealthy" if r.running else "[red]down")
                ports = ", ".join(f"{k}={v}" for k, v in r.ports.items())
                table.add_row(r.name, state, str(r.pid or "-"), ports, r.log_file)
            console.print(table)
        if not all(r.healthy for r in rows):
            raise typer.Exit(code=3)
