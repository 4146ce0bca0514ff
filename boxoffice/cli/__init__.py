"""The `boxoffice` command line: wiring only; the work lives in the packages it calls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boxoffice.cli import (
    metrics,
    operate,
    pipeline,
    processors,
    replay,
    source,
    stack,
    superset,
    topics,
    warehouse,
)
from boxoffice.cli.common import console, settings

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Real-time CDC analytics for the festival's ticketing database.")
app.command("up")(pipeline.up_command)
app.command("setup")(pipeline.setup_command)
app.command("down")(pipeline.down_command)
app.command("demo")(pipeline.demo_command)
app.command("verify")(operate.verify_command)
app.command("status")(operate.status_command)
app.add_typer(stack.app, name="stack")
app.command("seed")(source.seed_command)
app.command("sell")(source.sell_command)
app.add_typer(source.source_app, name="source")
app.add_typer(source.connector_app, name="connector")
app.add_typer(warehouse.app, name="warehouse")
app.command(name="sink")(warehouse.sink)
app.add_typer(superset.app, name="superset")
app.add_typer(processors.app, name="processors")
app.add_typer(replay.app, name="replay")
app.add_typer(topics.app, name="topics")
app.add_typer(metrics.app, name="metrics")


@app.command("compose-env")
def compose_env(
    path: Annotated[Path, typer.Option(help="where to write it")] = Path(".env"),
) -> None:
    """Write the .env docker-compose.yml reads (ports, versions, credentials)."""
    from boxoffice.compose import write_env_file

    write_env_file(settings(), path)
    console.print(f"wrote {path} (owner-only: it holds credentials)")


def main() -> None:
    app()
